"""Which TFLite runtime runs the model: ai-edge-litert, tflite-runtime, or TensorFlow's own.

`auto` takes ai-edge-litert, then tflite-runtime; TensorFlow is used only when asked for with
`--runtime tf`, since importing it costs seconds and hundreds of megabytes on a board.
"""

import contextlib
import os
import sys
from enum import Enum
from typing import NamedTuple

from edgecell.core.errors import EdgecellError


class Runtime(str, Enum):
    auto = "auto"
    litert = "litert"
    tflite_runtime = "tflite-runtime"
    tf = "tf"


class RuntimeInfo(NamedTuple):
    name: str  # the package: ai-edge-litert, tflite-runtime or tensorflow
    version: str


_INSTALL = {
    Runtime.litert: "pip install ai-edge-litert",
    Runtime.tflite_runtime: "pip install tflite-runtime",
    Runtime.tf: "pip install tensorflow",
}


def interpreter_class(runtime: Runtime = Runtime.auto):
    """(Interpreter class, RuntimeInfo) of the requested runtime."""
    runtime = Runtime(runtime)
    order = [Runtime.litert, Runtime.tflite_runtime] if runtime is Runtime.auto else [runtime]
    for candidate in order:
        try:
            return _import(candidate)
        except ImportError:
            continue
    if runtime is Runtime.auto:
        raise EdgecellError(
            "No TFLite runtime is installed; install one with: pip install ai-edge-litert "
            "(or pip install tflite-runtime on 32-bit ARM)."
        )
    raise EdgecellError(f"--runtime {runtime.value} is not installed here; install it with: {_INSTALL[runtime]}")


def _import(runtime: Runtime):
    if runtime is Runtime.litert:
        import ai_edge_litert
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter, RuntimeInfo("ai-edge-litert", getattr(ai_edge_litert, "__version__", "unknown"))
    if runtime is Runtime.tflite_runtime:
        _numpy_for_tflite_runtime()
        import tflite_runtime
        from tflite_runtime.interpreter import Interpreter

        return Interpreter, RuntimeInfo("tflite-runtime", getattr(tflite_runtime, "__version__", "unknown"))
    import tensorflow as tf  # only when the user asks for --runtime tf

    return tf.lite.Interpreter, RuntimeInfo("tensorflow", tf.__version__)


# An input over 4096x4096x3 is no camera frame: a 2 KB model declaring 1x20000x20000x3 would have
# the runtime allocate 4.5 GB before the first image.
MAX_INPUT_SIDE = 4096
MAX_INPUT_VALUES = MAX_INPUT_SIDE * MAX_INPUT_SIDE * 3


def load(model_content: bytes, name: str, runtime: Runtime = Runtime.auto, threads=None):
    """An interpreter with tensors allocated, from the bytes of a .tflite; (interpreter, RuntimeInfo).

    The input shapes are checked before anything is allocated."""
    cls, info = interpreter_class(runtime)
    try:
        with _runtime_chatter_off():
            interpreter = cls(model_content=model_content, num_threads=threads)
            _check_inputs(interpreter, name)
            interpreter.allocate_tensors()
    except SystemError as error:
        raise EdgecellError(_system_error(info, error, name)) from None  # one sentence, whatever the cause
    except (ValueError, RuntimeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise EdgecellError(f"{name} cannot be loaded by {info.name} {info.version} ({reason[:300]}).") from None
    return interpreter, info


def _check_inputs(interpreter, name: str) -> None:
    for tensor in interpreter.get_input_details():
        shape = [int(v) for v in tensor["shape"]]
        values = 1
        for v in shape:
            values *= max(v, 1)
        if values > MAX_INPUT_VALUES or (len(shape) == 4 and max(shape[1:3]) > MAX_INPUT_SIDE):
            raise EdgecellError(
                f"{name} takes an input of {shape}, over the {MAX_INPUT_SIDE}x{MAX_INPUT_SIDE}x3 edgecell runs; "
                "it was not loaded (it would need gigabytes before the first image)."
            )


def _numpy_for_tflite_runtime() -> None:
    """tflite-runtime's wheels (2.14.0 is the last) are built against numpy 1: under numpy 2 the
    import prints numpy's ABI warning with a stack, then the interpreter fails with a SystemError.
    So look before importing it."""
    import importlib.metadata
    import importlib.util

    import numpy

    if importlib.util.find_spec("tflite_runtime") is None:
        raise ImportError("tflite_runtime")
    if int(numpy.__version__.split(".")[0]) >= 2:
        try:
            version = importlib.metadata.version("tflite-runtime")
        except importlib.metadata.PackageNotFoundError:
            version = ""
        raise EdgecellError(
            f"tflite-runtime {version} was built for numpy 1 and numpy {numpy.__version__} is installed; "
            "install numpy 1 beside it with: pip install 'numpy<2' (or use ai-edge-litert where it has wheels)."
        )


def _system_error(info: RuntimeInfo, error: SystemError, name: str) -> str:
    return f"{name} cannot be loaded by {info.name} {info.version} (SystemError: {str(error)[:300]})."


@contextlib.contextmanager
def _runtime_chatter_off():
    """Keep the runtime's own log lines ("INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
    printed by its C++ logger on every start) off the user's terminal: standard error's file
    descriptor points at /dev/null while the interpreter is built. Failures still reach the user,
    as the exception this function's caller turns into one sentence."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable fd 2 (an embedding host): leave it alone
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
