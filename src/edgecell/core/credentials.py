"""URLs as they may be shown: the password of a `scheme://user:password@host` replaced by `***`.

A camera stream (`rtsp://user:pass@192.168.1.20/stream`), a broker or a webhook URL can carry a
password, and its text goes to places others read: the terminal, the journal, every results row,
`/status.json` and MQTT. As Frigate cleans camera URLs before it logs them (`clean_camera_user_pass`:
`user:pass@` and an HTTP camera's `password=` query), each of those gets the URL with the password
masked; only the connection itself uses the real one. Frigate masks the user too (`*:*@`); here it
is kept (`rtsp://user:***@192.168.1.20/stream`), as it says which account a board uses and is no
secret. `masked` works on any text, so an error message quoting a URL is masked too.
"""

import re

# scheme://user:password@ up to the last @ before the path, where urllib ends the authority too
# (a password may hold an unencoded : or @)
_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:@/\s]*):(?P<password>[^/\s]*)@")
# an HTTP camera's ...?user=admin&password=... (the query form Frigate masks too)
_QUERY_PASSWORD = re.compile(r"(?P<key>[?&](?:password|passwd|pwd)=)[^&#\s]*", re.IGNORECASE)


def masked(text) -> str:
    """`text` with every URL's password shown as `***` (the user name is kept, as Frigate keeps it)."""
    text = str(text)
    if "://" not in text:
        return text
    text = _CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)
    return _QUERY_PASSWORD.sub(lambda m: f"{m['key']}***", text)
