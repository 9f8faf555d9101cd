"""Export: a trained Keras model folder to TFLite models for a board, each checked on held-out images.

Installed as `edgecell.converters`. TensorFlow is imported inside the functions that convert
and check (`convert.py`, `check.py`, `export.py`), never at module level: `opcodes.py`,
`compat.py` and `info.py` also run on a board, for `edgecell info`.
"""
