"""Scores a model earns on fixed inputs: whether an adapted model computes what its source did, and
which pretrained speaker a new voice's recordings sit nearest. Surgery and evaluation both use them."""
