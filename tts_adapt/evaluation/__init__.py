"""Scoring a model on prepared data: speaker ranking, objective metrics, the evaluation report."""
