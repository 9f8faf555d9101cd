"""Boards named on the command line (`user@host[:port]`, an alias from ~/.ssh/config) or in an
inventory file, one a line."""

import re
from pathlib import Path
from typing import NamedTuple, Optional

from edgecell.core.errors import EdgecellError

# user@ is optional, host is a name, an IPv4 address or [an IPv6 address], :port is optional.
_SPEC = re.compile(
    r"^(?:(?P<user>[A-Za-z0-9._][A-Za-z0-9._-]*)@)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_][A-Za-z0-9._-]*)"
    r"(?::(?P<port>[0-9]{1,5}))?$"
)


class Host(NamedTuple):
    spec: str  # as the user wrote it: the board's name in the report
    destination: str  # what ssh is given: user@host or host
    port: Optional[int]


def parse(spec: str) -> Host:
    """`user@host[:port]` as a Host; anything else (a leading '-' ssh would read as an option,
    spaces, a port out of range) is one sentence."""
    match = _SPEC.match(spec.strip())
    if not match:
        raise EdgecellError(
            f"{spec!r} is not a board; write user@host, user@host:port, [ipv6]:port or a Host alias of your ssh config."
        )
    port = match["port"]
    if port is not None and not 0 < int(port) < 65536:
        raise EdgecellError(f"{spec!r} has port {port}; a port is 1 to 65535.")
    host = match["host"].strip("[]")
    destination = f"{match['user']}@{host}" if match["user"] else host
    return Host(spec.strip(), destination, int(port) if port else None)


def read_inventory(path: Path) -> list:
    """The hosts of an inventory file: one a line, blank lines and `#` comments ignored."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise EdgecellError(f"Inventory {path} cannot be read ({error.strerror}).") from None
    except UnicodeDecodeError:
        raise EdgecellError(f"Inventory {path} is not a text file; write one host a line.") from None
    specs = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return [s for s in specs if s]


def collect(specs, inventory: Optional[Path] = None) -> list:
    """Hosts from the command line, then the inventory's, each board once, in order."""
    names = list(specs) + (read_inventory(inventory) if inventory is not None else [])
    if not names:
        raise EdgecellError("No board given: name one or more HOSTs (user@host[:port]) or an --inventory FILE.")
    hosts = {}
    for name in names:
        host = parse(name)
        hosts.setdefault((host.destination, host.port), host)
    return list(hosts.values())
