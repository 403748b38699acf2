"""``tts-adapt import``: TF1 Tacotron-2 checkpoints (Rayhane-mamah, Real-Time-Voice-Cloning) as toolkit models."""
