"""`edgecell watch`: every board publishing under one MQTT prefix, as a live table.

The broker carries the fleet: each board publishes a retained `status` (online/offline) and
`stats` and its events (device/connect/mqtt.py); the watcher subscribes to `PREFIX/+/status|stats|event`
and keeps the latest of each device. Retained messages give a board's state the moment the
watcher connects, before its next report.
"""

import datetime
import json
import threading
import time
from typing import Optional

from edgecell.device.connect import broker

FIELDS = ("device", "online", "images_per_second", "latency_p50_ms", "last_label", "cpu_temperature_c", "last_seen")
COLUMNS = ("device", "online", "images/s", "p50 ms", "last label", "temp °C", "last seen")


class Fleet:
    """The latest of every device under `prefix`; fed by `on_message`, read by `rows`."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self._devices = {}
        self._lock = threading.Lock()

    def on_message(self, topic: str, payload: bytes, now: Optional[float] = None) -> None:
        rest = topic[len(self.prefix) + 1 :].split("/") if topic.startswith(self.prefix + "/") else []
        if len(rest) != 2:
            return
        device, kind = rest
        text = payload.decode("utf-8", "replace")
        with self._lock:
            entry = self._devices.setdefault(device, dict.fromkeys(FIELDS))
            entry["device"] = device
            if kind == "status":
                entry["online"] = text == "online"
            elif kind in ("stats", "event"):
                try:
                    data = json.loads(text)
                except ValueError:
                    return  # not ours, or garbled: ignore rather than stop watching
                if not isinstance(data, dict):
                    return
                if kind == "stats":
                    entry["images_per_second"] = data.get("images_per_second")
                    entry["latency_p50_ms"] = (data.get("latency_ms") or {}).get("p50")
                    entry["cpu_temperature_c"] = data.get("cpu_temperature_c")
                    if data.get("last_label") is not None:
                        entry["last_label"] = data["last_label"]
                else:
                    entry["last_label"] = data.get("label")
            else:
                return
            entry["last_seen"] = now if now is not None else time.time()

    def rows(self) -> list:
        with self._lock:
            return [dict(self._devices[d]) for d in sorted(self._devices)]

    def snapshot(self) -> dict:
        """For `--json`: the table as data, `last_seen` as ISO 8601 in UTC."""
        rows = self.rows()
        for row in rows:
            row["last_seen"] = _iso(row["last_seen"])
        return {"time": _iso(time.time()), "prefix": self.prefix, "devices": rows}

    def table(self, now: Optional[float] = None) -> str:
        now = now if now is not None else time.time()
        cells = [COLUMNS]
        for row in self.rows():
            seen = row["last_seen"]
            cells.append(
                (
                    row["device"],
                    {True: "yes", False: "NO", None: "?"}[row["online"]],
                    _num(row["images_per_second"], 1),
                    _num(row["latency_p50_ms"], 2),
                    str(row["last_label"] or "-"),
                    _num(row["cpu_temperature_c"], 1),
                    "-" if seen is None else f"{max(0.0, now - seen):.0f} s ago",
                )
            )
        widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
        return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in cells)


def watch(target: broker.Target, *, ca=None, every: float = 1.0, duration=None, on_update, stop=None, log=print):
    """Subscribe under `target.prefix` and call `on_update(fleet)` every `every` seconds until
    `duration` seconds have passed or `stop` (a threading.Event) is set; returns the fleet."""
    fleet = Fleet(target.prefix)
    stop = stop or threading.Event()
    client = broker.client(target, f"edgecell-watch-{int(time.time() * 1000) % 10**9}", ca)
    topics = [(target.topic("+", kind), 1) for kind in ("status", "stats", "event")]
    state = {"up": False}

    def on_connect(client, userdata, flags, reason, properties):
        if reason.is_failure:
            log(f"watch: {target} refused the connection ({reason}).")
            return
        state["up"] = True
        client.subscribe(topics)

    def on_disconnect(client, userdata, flags, reason, properties):
        if state["up"] and not stop.is_set():
            log(f"watch: lost {target} ({reason}); reconnecting.")
        state["up"] = False

    client.on_connect, client.on_disconnect = on_connect, on_disconnect
    client.on_connect_fail = lambda client, userdata: log(f"watch: cannot reach {target}; retrying.")
    client.on_message = lambda client, userdata, message: fleet.on_message(message.topic, message.payload)
    client.reconnect_delay_set(1, 30)
    client.connect_async(target.host, target.port, keepalive=30)
    client.loop_start()
    end = None if duration is None else time.monotonic() + duration
    try:
        while not stop.is_set():
            wait = every if end is None else min(every, max(0.0, end - time.monotonic()))
            if stop.wait(wait):
                break
            on_update(fleet)
            if end is not None and time.monotonic() >= end:
                break
    finally:
        client.disconnect()
        client.loop_stop()
    return fleet


def _num(value, digits) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _iso(seconds):
    if seconds is None:
        return None
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).isoformat(timespec="seconds")
