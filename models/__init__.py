"""What edgecell ships ready to run, installed as `edgecell.models` (in the wheel too).

`demo/` holds an int8 classifier of handwritten digits made by `edgecell demo` (scikit-learn's
digits, 32x32 input), its labels, and a few sample images, so a fresh board can classify at once.
"""

from pathlib import Path

DEMO_DIR = Path(__file__).parent / "demo"
DEMO_MODEL = DEMO_DIR / "digits_int8.tflite"
DEMO_LABELS = DEMO_DIR / "labels.txt"
DEMO_IMAGES = DEMO_DIR / "images"
