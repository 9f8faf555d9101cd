"""Where an MQTT broker is, and a paho-mqtt client for it: shared by `infer --mqtt` and `watch`.

`mqtt://[user:pass@]host[:port]/PREFIX` (port 1883) or `mqtts://...` (TLS, port 8883, the
system's CA certificates or `ca`). Topics are `PREFIX/DEVICE/result|event|status|stats`.

paho-mqtt is the client: the Eclipse reference implementation, pure Python (one small wheel, no
compiled parts, so it installs on every board), with QoS 1 resending, a last will and reconnecting
with back-off built in; it is imported here only, and only when MQTT is asked for.
"""

import re
import urllib.parse
from pathlib import Path
from typing import NamedTuple, Optional

from edgecell.core import device_rule
from edgecell.core.credentials import masked
from edgecell.core.errors import EdgecellError

_BAD_TOPIC_PART = re.compile(r"[+#\x00-\x1f\x7f]")


class Target(NamedTuple):
    host: str
    port: int
    prefix: str
    tls: bool = False
    username: Optional[str] = None
    password: Optional[str] = None

    def __str__(self) -> str:  # never the password
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}/{self.prefix}"

    def topic(self, device: str, name: str) -> str:
        return f"{self.prefix}/{device}/{name}"


def parse_url(url: str, option: str = "--mqtt") -> Target:
    parts = urllib.parse.urlsplit(url)
    example = "mqtt://[user:pass@]host[:port]/PREFIX, e.g. mqtt://192.168.1.10/edgecell"
    if parts.scheme not in ("mqtt", "mqtts"):
        raise EdgecellError(f"{option} {masked(url)!r} is not an MQTT URL; give {example}.")
    try:
        port = parts.port
    except ValueError:
        raise EdgecellError(f"{option} {masked(url)!r} has a port that is not a number from 1 to 65535.") from None
    if not parts.hostname:
        raise EdgecellError(f"{option} {masked(url)!r} names no broker host; give {example}.")
    prefix = parts.path.strip("/")
    if not prefix or parts.query or parts.fragment or "#" in url or _BAD_TOPIC_PART.search(prefix) or "//" in prefix:
        raise EdgecellError(
            f"{option} {masked(url)!r} needs a topic prefix after the host without +, # or empty levels, "
            "e.g. mqtt://broker/edgecell."
        )
    tls = parts.scheme == "mqtts"
    user = urllib.parse.unquote(parts.username) if parts.username else None
    password = urllib.parse.unquote(parts.password) if parts.password else None
    return Target(parts.hostname, port or (8883 if tls else 1883), prefix, tls, user, password)


def is_topic(name: str) -> bool:
    """Whether `name` is a topic one may publish to: levels without wildcards or control characters."""
    return bool(name) and not _BAD_TOPIC_PART.search(name) and "" not in name.split("/")


def device_id(given: Optional[str] = None) -> str:
    """`given`, or this machine's host name, checked by the one device-id rule (core/device_rule.py)."""
    import socket  # here: most runs name no broker, and socket costs a few ms at start

    device = given if given is not None else socket.gethostname().split(".")[0]
    why = device_rule.problem(device)
    if why is not None:
        raise EdgecellError(why if given is not None else f"{why} (the host name is not one: give --device-id)")
    return device


def client(target: Target, client_id: str, ca: Optional[Path] = None, mqtt5: bool = False):
    """A paho-mqtt 2.x client for `target` (not connected yet): MQTT 3.1.1, or 5 with `mqtt5`."""
    try:
        import paho.mqtt.client as mqtt
    except ImportError:
        raise EdgecellError("MQTT needs paho-mqtt; install it with: pip install 'paho-mqtt>=2'") from None
    if ca is not None and not target.tls:
        raise EdgecellError(f"--mqtt-ca {ca} applies to an mqtts:// broker; {target} is plain MQTT.")
    if ca is not None and not Path(ca).is_file():
        raise EdgecellError(f"--mqtt-ca {ca} is not a file; give the broker's CA certificate (PEM).")
    protocol = mqtt.MQTTv5 if mqtt5 else mqtt.MQTTv311
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol)
    if target.username is not None:
        c.username_pw_set(target.username, target.password)
    if target.tls:
        c.tls_set(ca_certs=str(ca) if ca is not None else None)
    return c
