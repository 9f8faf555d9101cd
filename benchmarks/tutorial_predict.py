"""What a tutorial user runs to classify one image: load the Keras model, load the image, predict.

Run by coldstart.py as a whole process; kept as plain as the tutorials write it.
Usage: python tutorial_predict.py MODEL.keras IMAGE SIZE
"""

import sys

import numpy as np
import tensorflow as tf

model = tf.keras.models.load_model(sys.argv[1])
size = int(sys.argv[3])
img = tf.keras.utils.load_img(sys.argv[2], target_size=(size, size))
x = np.expand_dims(tf.keras.utils.img_to_array(img), axis=0)
prediction = model.predict(x)
print(int(np.argmax(prediction)))
