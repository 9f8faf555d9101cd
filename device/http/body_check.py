"""What a body POSTed to /classify may be, and the reason, as an HTTP status, when it may not.

A server on a board must stay up and bounded whatever arrives: the body's size is capped before
it is read, the format is recognised from its first bytes before it is decoded, and the pixel
count is read from the header before OpenCV allocates anything, because a 50 kB PNG can claim
30000 x 30000 pixels (2.7 GB decoded).
"""

from typing import NamedTuple, Optional

from edgecell.device.input import image
from edgecell.device.input.image_header import declared_size

MAX_PIXELS = 40_000_000  # a 40-megapixel photo decodes to 120 MB; more is refused before decoding
SIGNATURES = {
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"BM": "BMP",
}
WEBP = (b"RIFF", b"WEBP")


class Refusal(NamedTuple):
    status: int  # the HTTP status: 400, 413, 415 or 422
    reason: str


def kind(data: bytes) -> Optional[str]:
    """'JPEG', 'PNG', 'BMP' or 'WebP' from the first bytes; None for anything else."""
    for signature, name in SIGNATURES.items():
        if data.startswith(signature):
            return name
    if data[:4] == WEBP[0] and data[8:12] == WEBP[1]:
        return "WebP"
    return None


def framing(headers) -> Optional[Refusal]:
    """A refusal for a request whose body length is ambiguous, as RFC 9112 section 6.3 has it:
    Transfer-Encoding beside Content-Length (a request-smuggling attempt), Content-Lengths that
    differ, or one that is not plain digits (`+5`, `5_0`, ` 5`, which Python's int() accepts)."""
    lengths = [value.strip() for field in headers.get_all("Content-Length", []) for value in field.split(",")]
    if headers.get("Transfer-Encoding") is not None and lengths:
        return Refusal(400, "the request has both Transfer-Encoding and Content-Length; send Content-Length alone")
    for value in lengths:
        if not (value.isascii() and value.isdigit()) or len(value) > 18:
            return Refusal(400, f"Content-Length {value!r} is not a number of bytes; send digits only, e.g. 5123")
    if len(set(map(int, lengths))) > 1:
        return Refusal(400, f"the request has Content-Lengths {', '.join(lengths)}; send one")
    return None


def body_length(headers) -> int:
    """The body's length once `framing` passed: 0 when none is announced."""
    lengths = headers.get_all("Content-Length", [])
    return int(lengths[0].split(",")[0]) if lengths else 0


def check_length(headers, max_bytes: int) -> Optional[Refusal]:
    """A refusal for a POST whose body is unframed, missing, chunked or over `max_bytes`."""
    refusal = framing(headers)
    if refusal is not None:
        return refusal
    if headers.get("Content-Length") is None:
        return Refusal(411, "send the image with a Content-Length header (chunked bodies are not accepted)")
    length = body_length(headers)
    if length == 0:
        return Refusal(400, "the body is empty; POST the image file's bytes")
    if length > max_bytes:
        return Refusal(413, f"the body is {length} bytes, over the {max_bytes}-byte cap (--max-body-mb)")
    return None


def pixels(data: bytes) -> int:
    """The pixels `data` declares, for the decode budget; the cap when its header is unreadable."""
    size = declared_size(data)
    return size[0] * size[1] if size is not None else MAX_PIXELS


SEND_THE_FILE = "POST the image file itself as the body: curl --data-binary @photo.jpg URL (not curl -F)"


def decode(data: bytes, fit=None):
    """(RGB pixels, None) for a usable image, or (None, Refusal); `fit` as in `image.decode_rgb`
    (the classifier's `decode_fit`, so a large JPEG decodes at the model's scale)."""
    if not data:
        return None, Refusal(400, "the body is empty; POST the image file's bytes")
    name = kind(data)
    if name is None and data.startswith(b"--"):
        return None, Refusal(415, f"the body is a multipart form; {SEND_THE_FILE}")
    if name is None:
        return None, Refusal(415, f"the body is not an image (JPEG, PNG, BMP or WebP expected); {SEND_THE_FILE}")
    size = declared_size(data)
    if size is not None and size[0] * size[1] > MAX_PIXELS:
        return None, Refusal(413, f"the {name} is {size[0]}x{size[1]} pixels, over the {MAX_PIXELS}-pixel cap")
    try:
        return image.decode_rgb(data, fit), None
    except image.ImageError as error:
        return None, Refusal(422, f"the {name} cannot be used: {error}")
