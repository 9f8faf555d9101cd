"""The size an encoded image declares in its header, read before anything is decoded.

A 631-byte JPEG can declare 30000x30000 pixels, and OpenCV would allocate 2.7 GB to decode it:
the pixel cap (`image.py`) and a decode at the model's scale need the declared size first.

Written here rather than taken from `imagesize` (PyPI, pure Python, MIT): its 2.x module imports
urllib.request, ssl, socket, email and xml.etree at load (its HTTP range reader and SVG parser),
31 ms on top of cv2 in a one-image `edgecell infer`, to read a dozen header bytes. This reads the
formats OpenCV decodes and a board meets: JPEG, PNG, BMP, GIF, WebP, TIFF and PNM.
"""

import struct
from typing import Optional

# SOF markers declare the frame size; C4 (DHT), C8 (JPG extension) and CC (DAC) share the range.
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM, RST0-7: no length field


def declared_size(data: bytes) -> Optional[tuple]:
    """(width, height) as the header declares them (stored orientation, before any EXIF rotation),
    or None when the format is not one of those read here or the header is cut short or corrupt.

    Reads only the header: the pixel data may be missing or garbage.
    """
    try:
        size = _read(memoryview(data))
    except (struct.error, IndexError, ValueError):
        return None
    if size is None or size[0] <= 0 or size[1] <= 0:
        return None
    return int(size[0]), int(size[1])


def _read(data: memoryview):
    head = bytes(data[:16])
    if head.startswith(b"\xff\xd8"):
        return _jpeg(data)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        if bytes(data[12:16]) != b"IHDR":
            return None
        return struct.unpack(">II", data[16:24])
    if head.startswith(b"BM"):
        return _bmp(data)
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return struct.unpack("<HH", data[6:10])
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return _webp(data)
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return _tiff(data)
    if head[:1] == b"P" and head[1:2] in (b"1", b"2", b"3", b"4", b"5", b"6"):
        return _pnm(data)
    return None


def _jpeg(data: memoryview):
    """Walk the marker segments up to the first SOF; the scan data (SOS) comes after it."""
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker in _JPEG_STANDALONE:
            position += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image or start of scan before any frame header
            return None
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        if length < 2:
            return None
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return width, height
        position += 2 + length
    return None


def _bmp(data: memoryview):
    (header_size,) = struct.unpack("<I", data[14:18])
    if header_size == 12:  # OS/2 BITMAPCOREHEADER: 16-bit sizes
        return struct.unpack("<HH", data[18:22])
    width, height = struct.unpack("<ii", data[18:26])
    return width, abs(height)  # a negative height is a top-down bitmap


def _webp(data: memoryview):
    chunk = bytes(data[12:16])
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF  # the top two bits are the upscaling factor
    if chunk == b"VP8L":
        (bits,) = struct.unpack("<I", data[21:25])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    return None


def _tiff(data: memoryview):
    """ImageWidth (256) and ImageLength (257) in the first image file directory."""
    order = "<" if bytes(data[:2]) == b"II" else ">"
    (offset,) = struct.unpack(order + "I", data[4:8])
    (count,) = struct.unpack(order + "H", data[offset : offset + 2])
    found = {}
    for entry in range(min(count, 4096)):
        start = offset + 2 + 12 * entry
        tag, kind = struct.unpack(order + "HH", data[start : start + 4])
        if tag in (256, 257):
            fmt = {3: "H", 4: "I"}.get(kind)
            if fmt is None:
                return None
            (found[tag],) = struct.unpack(order + fmt, data[start + 8 : start + 8 + struct.calcsize(fmt)])
    if 256 not in found or 257 not in found:
        return None
    return found[256], found[257]


def _pnm(data: memoryview):
    """`P6 <width> <height> ...` with whitespace and `#` comments between the tokens."""
    tokens, position, limit = [], 2, min(len(data), 4096)
    while len(tokens) < 2 and position < limit:
        byte = data[position]
        if byte == ord("#"):
            while position < limit and data[position] not in (0x0A, 0x0D):
                position += 1
        elif chr(byte).isspace():
            position += 1
        else:
            start = position
            while position < limit and chr(data[position]).isdigit():
                position += 1
            if start == position:
                return None
            tokens.append(int(bytes(data[start:position])))
    return tuple(tokens) if len(tokens) == 2 else None
