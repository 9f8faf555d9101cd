"""The headers every answer carries, and the live page's Content-Security-Policy.

The page loads nothing from elsewhere, so its policy allows only itself: its one inline script
and style by their SHA-256 (computed here from the page as shipped, so an edit cannot forget
them), fetches to the same origin, and frames as `blob:` URLs (the page fetches /frame.jpg with
the token header and shows it from memory). `frame-ancestors 'none'` keeps it out of other
sites' frames (clickjacking); JSON and images get `default-src 'none'`. `nosniff` stops a
browser from reading an answer as another type than it says (OWASP's secure-headers list).
"""

import base64
import hashlib
import re

API_POLICY = "default-src 'none'; frame-ancestors 'none'"
COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Referrer-Policy": "no-referrer",
}


def _hashes(page: str, tag: str) -> str:
    blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", page, re.DOTALL)
    return " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'" for b in blocks)


def page_policy(page: bytes) -> str:
    text = page.decode("utf-8")
    return (
        f"default-src 'none'; script-src {_hashes(text, 'script')}; style-src {_hashes(text, 'style')}; "
        "img-src 'self' blob: data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )
