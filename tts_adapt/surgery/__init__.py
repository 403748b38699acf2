"""Checkpoint surgery: a layout says where speaker rows live, a plan gives every key one action, apply streams it."""
