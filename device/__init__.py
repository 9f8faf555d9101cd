"""The device side: everything a board needs to classify images with a .tflite file.

Nothing in this package imports TensorFlow: numpy, OpenCV and a TFLite runtime only.
"""
