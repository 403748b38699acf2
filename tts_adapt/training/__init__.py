"""Losses, the train loop, the toolkit's own checkpoints, logging."""
