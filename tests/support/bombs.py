"""Decompression bombs, made in milliseconds: tiny files that declare (and would decode to) huge images."""

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np


def jpeg_bomb(path: Path, width=30000, height=30000) -> Path:
    """A few hundred bytes of real JPEG whose frame header declares `width` x `height`: libjpeg
    allocates the whole frame and decodes the missing scan data as grey (15 s and 5 GB here)."""
    ok, encoded = cv2.imencode(".jpg", np.full((8, 8, 3), 128, np.uint8))
    assert ok
    data = bytearray(encoded.tobytes())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    path.write_bytes(bytes(data))
    return path


def png16_bomb(path: Path, side=18000) -> Path:
    """A valid 16-bit RGB PNG of `side` x `side` black pixels (1.9 GB decoded) in about 2 MB."""
    return png_bomb(path, side, depth=16)


def png_bomb(path: Path, side: int, depth: int = 8) -> Path:
    """A valid RGB PNG of `side` x `side` black pixels, 8 or 16 bits a sample, in about 1/900 of
    its decoded size (6320 x 6320 at 8 bits: 120 MB decoded from 136 kB).

    The image data is all zeros (filter byte 0 and zero samples on every row), so a block of
    zeros compressed once with a full flush (which resets the compressor's history) can be
    repeated: the same bytes decode to the same zeros wherever they stand in the stream.
    """
    total = side * (1 + side * 3 * depth // 8)
    block = 1 << 20
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = compressor.compress(bytes(block)) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    rest = tail.compress(bytes(total % block)) + tail.flush()
    adler = ((total % 65521) << 16) | 1  # adler32 of `total` zero bytes
    idat = b"\x78\xda" + chunk * (total // block) + rest + struct.pack(">I", adler)
    ihdr = struct.pack(">IIBBBBB", side, side, depth, 2, 0, 0, 0)  # RGB
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b""))
    return path


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
