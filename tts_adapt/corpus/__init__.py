"""Corpora: metadata readers, the prepared feature cache, the tf.data pipeline."""
