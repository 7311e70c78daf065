"""The TensorFlow frontend (placeholder while it is built)."""
