"""Small real checkpoints made by TensorFlow itself, for tests, benchmarks and the tour."""
