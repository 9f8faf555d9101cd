"""URLs as they may be shown: the password of a `scheme://user:password@host` replaced by `***`.

A camera stream (`rtsp://user:pass@192.168.1.20/stream`), a broker or a webhook URL can carry a
password, and its text goes to places others read: the terminal, the journal, every results row,
`/status.json` and MQTT. As Frigate does for camera URLs, each of those gets the URL with the
password masked (`rtsp://user:***@192.168.1.20/stream`); only the connection itself uses the real
one. `masked` works on any text, so an error message quoting a URL is masked too.
"""

import re

# scheme://user:password@ up to the last @ before the path, where urllib ends the authority too
# (a password may hold an unencoded : or @)
_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:@/\s]*):(?P<password>[^/\s]*)@")


def masked(text) -> str:
    """`text` with every URL's password shown as `***` (the user name is kept, as Frigate keeps it)."""
    text = str(text)
    if "://" not in text:
        return text
    return _CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)
