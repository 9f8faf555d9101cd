"""Which `Host` the server answers to, and which `Origin` may POST to it.

DNS rebinding: a web page from `evil.example` has its name re-resolved to 127.0.0.1, and the
user's browser then reads the board's loopback server as the same origin. The browser still
sends `Host: evil.example`, so the server answers only the names it has (Transmission's
`rpc-host-whitelist` and Jupyter's `local_hostnames` do the same): any IP address (a rebound name
never looks like one), `localhost` and `*.localhost` (browsers resolve those to loopback
themselves), the board's own host name and its mDNS `NAME.local` (names a page's DNS cannot
hand out), the name it was told to bind, and each `--allow-host NAME`. Another name gets 421.

A cross-origin page can POST without reading the answer (`mode: "no-cors"`); the browser then
sends `Origin`, and a POST whose Origin is not the server's own is refused with 403, as Jupyter's
`check_origin` does. Programs (curl, Home Assistant, Node-RED) send no Origin and are not affected.
"""

import ipaddress
import socket
from collections.abc import Iterable
from typing import Optional
from urllib.parse import urlsplit


def _name(host: str) -> str:
    return host.strip().lower().rstrip(".")


def split_host(value: str) -> str:
    """The name or address in a Host value, without its port or the brackets of an IPv6 address."""
    value = value.strip()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rpartition(":")[0] if value.count(":") == 1 else value


def is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class Hosts:
    def __init__(self, bound: str, allowed: Iterable[str] = ()):
        own = socket.gethostname().split(".")[0]
        names = (*allowed, bound, own, f"{own}.local")
        self.names = {_name(name) for name in names if name and not is_address(name)}

    def refusal(self, host: Optional[str]) -> Optional[str]:
        """None when the server answers to `host` (the Host header's value), else why not."""
        if host is None:
            return "the request has no Host header"
        name = _name(split_host(host))
        if is_address(name) or name == "localhost" or name.endswith(".localhost") or name in self.names:
            return None
        return (
            f"this server does not answer to the name {name!r}; if that is the board's name, "
            f"start it with --allow-host {name}"
        )

    @staticmethod
    def cross_origin(origin: Optional[str], host: Optional[str]) -> Optional[str]:
        """None for a POST without Origin or from the server's own page, else why it is refused."""
        if origin is None:
            return None
        if origin != "null" and host and urlsplit(origin).netloc.lower() == host.strip().lower():
            return None
        return f"a page from {origin} may not POST here; only this server's own page and programs may"
