"""Item 4: OpenCV's DNN module (cv2.dnn.readNetFromTFLite) on the same float32 model.

OpenCV takes an NCHW float blob; the outputs are compared with LiteRT's so the ratio is between
two runtimes computing the same answer. The int8 model is offered too: OpenCV's TFLite importer
does not run full-integer graphs, and the line says what it answers.
"""

import cv2
import numpy as np

from benchmarks.timing import Ratio, interleaved, ratio
from edgecell.device.input.image import load_rgb
from edgecell.device.model.classifier import Classifier


def opencv_net(path):
    """(net, None) or (None, the first line of OpenCV's refusal)."""
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        return cv2.dnn.readNetFromTFLite(str(path)), None
    except cv2.error as error:
        return None, _reason(error)
    finally:
        cv2.utils.logging.setLogLevel(level)


def _reason(error) -> str:
    text = str(error).strip().splitlines()
    message = next((line for line in text if "error:" in line), text[0] if text else "cv2.error")
    return message.split("error:", 1)[-1].strip()[:160]


def against_opencv(float32_path, int8_path, image_path, runs: int, arch: str = "edge") -> list:
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        return [_float32(float32_path, image_path, runs, arch), _int8(int8_path, image_path, arch)]
    finally:
        cv2.setNumThreads(threads)


def _float32(path, image_path, runs, arch) -> Ratio:
    what = f"{arch}: OpenCV DNN / edgecell (LiteRT) invoke, float32, 1 thread"
    net, reason = opencv_net(path)
    classifier = Classifier(path, threads=1)
    tensor = classifier.preprocess(load_rgb(image_path))
    if net is None:
        return Ratio(4, what, float("nan"), None, f"OpenCV cannot load it: {reason}")
    blob = np.ascontiguousarray(tensor.transpose(0, 3, 1, 2))

    def forward():
        net.setInput(blob)
        return net.forward()

    try:
        difference = float(np.abs(forward().reshape(-1) - classifier.scores(classifier.invoke(tensor))).max())
    except cv2.error as error:
        return Ratio(4, what, float("nan"), None, f"OpenCV cannot run it: {_reason(error)}")
    times = interleaved({"opencv": forward, "litert": lambda: classifier.invoke(tensor)}, runs)
    row = ratio(4, what, times["opencv"], times["litert"])
    return row._replace(detail=f"{row.detail}; outputs differ by at most {difference:.1e}")


def _int8(path, image_path, arch) -> Ratio:
    what = f"{arch}: OpenCV DNN on the int8 model"
    net, reason = opencv_net(path)
    if net is None:
        return Ratio(4, what, float("nan"), None, f"cannot load it: {reason}")
    classifier = Classifier(path, threads=1)
    blob = np.ascontiguousarray(classifier.preprocess(load_rgb(image_path)).transpose(0, 3, 1, 2)).astype(np.float32)
    try:
        net.setInput(blob)
        net.forward()
    except cv2.error as error:
        return Ratio(4, what, float("nan"), None, f"loads but cannot run it: {_reason(error)}")
    return Ratio(4, what, float("nan"), None, "loads and runs it (not timed)")
