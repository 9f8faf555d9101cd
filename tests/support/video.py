"""Generated video files: what stands in for a camera on a machine without one."""

import cv2
import numpy as np

RED = (220, 40, 40)


def write_video(path, frames=30, fps=25.0, size=(64, 48), rgb=RED):
    """An MJPG .avi of `frames` frames of one noisy colour; returns its path."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    assert writer.isOpened()
    rng = np.random.default_rng(0)
    for _ in range(frames):
        frame = np.clip(np.array(rgb) + rng.normal(0, 8, (size[1], size[0], 3)), 0, 255).astype(np.uint8)
        writer.write(np.ascontiguousarray(frame[:, :, ::-1]))  # VideoWriter takes BGR
    writer.release()
    return path
