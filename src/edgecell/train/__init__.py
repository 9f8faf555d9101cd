"""Training and evaluating a Keras classifier: TensorFlow is imported inside functions only."""
