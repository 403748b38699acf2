"""TensorFlow checkpoint dialects: read any of them one tensor at a time, write the same dialect back."""
