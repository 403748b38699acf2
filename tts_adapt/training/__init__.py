"""Training runs: new, fine-tuned or resumed (session), the loop and its losses, strategies across devices,
logging, and the vocoder's own pairs and loop."""
