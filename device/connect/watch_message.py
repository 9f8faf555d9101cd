"""What one message on a board's `status`, `stats` or `event` topic says, for `edgecell watch`.

Anyone who may publish on the broker can put anything under the prefix, retained, so that every
watcher gets it the moment it connects. As Home Assistant does with a payload its template cannot
read, a message that is not what a board sends (too big, not UTF-8, not JSON, a string or a list
where a number belongs) is refused with the reason and the watcher goes on with the next one:
`fields` returns only what the table can show, or raises `BadMessage`.
"""

import json
import math

MAX_BYTES = 64 * 1024  # a board's stats are about 500 bytes; bigger is refused before it is parsed
MAX_LABEL = 128  # characters of a label kept (the table shows fewer)


class BadMessage(ValueError):
    """Why a message was refused, in words the watcher's log line quotes."""


def fields(kind: str, payload: bytes) -> dict:
    """The table's fields from a `kind` message ("status", "stats" or "event")."""
    if len(payload) > MAX_BYTES:
        raise BadMessage(f"{len(payload)} bytes, over the {MAX_BYTES // 1024} KiB a watcher takes")
    if kind == "status":
        text = _text(payload)
        if text not in ("online", "offline"):
            raise BadMessage(f"status {_show(text)}, not online or offline")
        return {"online": text == "online"}
    data = _object(payload)
    if kind == "event":
        return {"last_label": _label(data, "label")}
    latency = data.get("latency_ms")
    if latency is not None and not isinstance(latency, dict):
        raise BadMessage(f"latency_ms is {_show(latency)}, not an object with p50")
    out = {
        "images_per_second": _number(data, "images_per_second"),
        "latency_p50_ms": _number(latency or {}, "p50", "latency_ms.p50"),
        "cpu_temperature_c": _number(data, "cpu_temperature_c"),
    }
    label = _label(data, "last_label")
    if label is not None:  # stats before the first result say null: keep the event's label
        out["last_label"] = label
    return out


def _text(payload: bytes) -> str:
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadMessage(f"not UTF-8 (byte {error.start})") from None


def _object(payload: bytes) -> dict:
    text = _text(payload)
    try:
        data = json.loads(text)
    except ValueError as error:  # also an integer too long to read (Python's 4300-digit limit)
        raise BadMessage(f"not JSON ({error})") from None
    if not isinstance(data, dict):
        raise BadMessage(f"JSON {type(data).__name__}, not an object")
    return data


def _number(data: dict, key: str, name=None):
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if math.isfinite(number):
            return number
    raise BadMessage(f"{name or key} is {_show(value)}, not a number")


def _label(data: dict, key: str):
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadMessage(f"{key} is {_show(value)}, not a string")
    return value[:MAX_LABEL]


def _show(value) -> str:
    """A short, escaped picture of a bad value for the log line."""
    text = repr(value) if not isinstance(value, (int, float)) or isinstance(value, bool) else "a huge or NaN number"
    return text if len(text) <= 40 else text[:37] + "..."
