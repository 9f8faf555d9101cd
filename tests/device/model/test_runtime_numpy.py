"""tflite-runtime beside numpy 2 (what a plain `pip install tflite-runtime` gives today): its
wheels are built against numpy 1, so the import prints numpy's ABI warning with a stack and the
interpreter fails with a SystemError. edgecell says so in one sentence with the fix first."""

import subprocess

import pytest

from edgecell.models import DEMO_MODEL

LOAD = """
import sys
from edgecell.core.errors import EdgecellError
from edgecell.device.model import runtime
try:
    runtime.load(open(sys.argv[1], "rb").read(), sys.argv[1], sys.argv[2])
except EdgecellError as error:
    print("ERROR", error)
"""


@pytest.mark.slow
@pytest.mark.parametrize("choice", ["tflite-runtime", "auto"])
def test_tflite_runtime_under_numpy_2_is_one_sentence_naming_numpy_below_2(choice):
    from support.venvs import TFLITE_RUNTIME_NUMPY_2, base_python, runtime_venv

    python = base_python()
    if python is None:
        pytest.skip("tflite-runtime 2.14 has wheels for Python 3.8 to 3.11 only, and no python3.11 is installed here")
    python = runtime_venv("tflite-runtime-2.14-numpy-2", TFLITE_RUNTIME_NUMPY_2, python)
    done = subprocess.run([str(python), "-c", LOAD, str(DEMO_MODEL), choice], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ERROR tflite-runtime 2.14.0 was built for numpy 1 and numpy 2."), done.stdout
    assert "install numpy 1 beside it with: pip install 'numpy<2'" in done.stdout
    assert "Traceback" not in done.stderr and "_ARRAY_API" not in done.stderr  # numpy's stack never printed
