"""Audio: load, resample, trim, loudness; log-mel features; Griffin-Lim."""
