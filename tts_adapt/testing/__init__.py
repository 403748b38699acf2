"""Small real checkpoints made by TensorFlow itself, for tests, benchmarks, the tour and the from_tf1 recipe."""
