"""The export stage: a trained Keras model folder to TFLite models, each checked for what
quantization cost. Needs TensorFlow (the `train` extra); imported inside the functions."""
