"""`edgecell watch`: every board publishing under one MQTT prefix, as a live table.

The broker carries the fleet: each board publishes a retained `status` (online/offline) and
`stats` and its events (device/connect/mqtt.py); the watcher subscribes to `PREFIX/+/status|stats|event`
and keeps the latest of each device. Retained messages give a board's state the moment the
watcher connects, before its next report.
"""

import datetime
import threading
import time
from typing import Optional

from edgecell.core.printable import printable
from edgecell.device.connect import broker, watch_message

FIELDS = ("device", "online", "images_per_second", "latency_p50_ms", "last_label", "cpu_temperature_c", "last_seen")
COLUMNS = ("device", "online", "images/s", "p50 ms", "last label", "temp °C", "last seen")
KINDS = ("status", "stats", "event")
MAX_DEVICES = 1000  # boards kept and drawn; past it, new ones are not shown (said once)
MAX_WARNED = 100  # devices whose bad messages get a line on stderr; past them, one line says the rest are not
MAX_DEVICE_ID = 128  # characters: a longer topic level is no board's id
FORGET_S = 24 * 3600  # a board silent this long leaves the table
MAX_PACKET = watch_message.MAX_BYTES + 1024  # what the broker may send: the payload cap and a topic
UNSUPPORTED_PROTOCOL = 132  # MQTT 5's CONNACK reason (paho's name for a 3.1.1 broker's return code 1)
SHOWN = 40  # characters of a device id or label drawn in the table


class Fleet:
    """The latest of every device under `prefix`; fed by `on_message`, read by `rows`.

    Memory stays bounded whatever is published: at most `max_devices` boards, each a few short
    fields, a device forgotten `forget_s` after its last message, and a message over
    `watch_message.MAX_BYTES` refused before it is parsed. A bad message is logged once per
    device and dropped; nothing a publisher sends stops the watcher.
    """

    def __init__(self, prefix: str, *, max_devices=MAX_DEVICES, forget_s=FORGET_S, log=None):
        self.prefix = prefix
        self.max_devices, self.forget_s = max_devices, forget_s
        self.log = log or (lambda message: None)
        self.refused = 0  # messages dropped: bad, too big, or from boards past the cap
        self._devices = {}
        self._warned = set()  # devices whose bad message was logged (at most MAX_WARNED and one)
        self._full_said = False
        self._lock = threading.Lock()

    def on_message(self, topic: str, payload: bytes, now: Optional[float] = None) -> None:
        rest = topic[len(self.prefix) + 1 :].split("/") if topic.startswith(self.prefix + "/") else []
        if len(rest) != 2 or rest[1] not in KINDS:
            return  # not a board's topic
        device, kind = rest
        now = now if now is not None else time.time()
        try:
            if len(device) > MAX_DEVICE_ID:
                raise watch_message.BadMessage(f"a device id of {len(device)} characters (at most {MAX_DEVICE_ID})")
            update = watch_message.fields(kind, payload)
        except Exception as error:  # whatever it was, this message alone is dropped
            self.refused += 1
            self._bad(device, kind, error)
            return
        with self._lock:
            entry = self._devices.get(device)
            if entry is None:
                if len(self._devices) >= self.max_devices:
                    self._forget(now)
                if len(self._devices) >= self.max_devices:
                    self.refused += 1
                    self._full(device)
                    return
                entry = self._devices[device] = dict.fromkeys(FIELDS)
                entry["device"] = device
            entry.update(update)
            entry["last_seen"] = now

    def _bad(self, device, kind, error):
        key = device[:MAX_DEVICE_ID]
        with self._lock:
            if key in self._warned or len(self._warned) > MAX_WARNED:
                return
            self._warned.add(key)
            last = len(self._warned) > MAX_WARNED
        reason = error if isinstance(error, watch_message.BadMessage) else f"unreadable ({type(error).__name__})"
        also = "bad messages from other devices are not logged" if last else "its further bad messages are not logged"
        self.log(f"watch: dropped a {kind} message from {_cut(printable(key))}: {printable(reason)}; {also}.")

    def _full(self, device):
        if not self._full_said:
            self._full_said = True
            self.log(
                f"watch: more than {self.max_devices} devices publish under {printable(self.prefix)}; "
                f"new ones (the first: {_cut(printable(device))}) are not shown until others fall silent."
            )

    def _forget(self, now: float) -> None:
        """Drop devices silent for `forget_s` (the lock held)."""
        for device in [d for d, entry in self._devices.items() if now - entry["last_seen"] > self.forget_s]:
            del self._devices[device]

    def rows(self, now: Optional[float] = None) -> list:
        with self._lock:
            self._forget(now if now is not None else time.time())
            return [dict(self._devices[d]) for d in sorted(self._devices)]

    def snapshot(self) -> dict:
        """For `--json`: the table as data, `last_seen` as ISO 8601 in UTC."""
        rows = self.rows()
        for row in rows:
            row["last_seen"] = _iso(row["last_seen"])
        return {"time": _iso(time.time()), "prefix": self.prefix, "devices": rows, "refused": self.refused}

    def table(self, now: Optional[float] = None) -> str:
        now = now if now is not None else time.time()
        cells = [COLUMNS]
        for row in self.rows(now):
            seen = row["last_seen"]
            cells.append(
                (
                    _cut(printable(row["device"])),
                    {True: "yes", False: "NO", None: "?"}[row["online"]],
                    _num(row["images_per_second"], 1),
                    _num(row["latency_p50_ms"], 2),
                    _cut(printable(row["last_label"] or "-")),
                    _num(row["cpu_temperature_c"], 1),
                    "-" if seen is None else f"{max(0.0, now - seen):.0f} s ago",
                )
            )
        widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
        return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in cells)


def watch(
    target: broker.Target, *, ca=None, every: float = 1.0, duration=None, on_update, stop=None, log=print, **fleet_args
):
    """Subscribe under `target.prefix` and call `on_update(fleet)` every `every` seconds until
    `duration` seconds have passed or `stop` (a threading.Event) is set; returns the fleet.

    The watcher connects with MQTT 5 and tells the broker the largest packet it takes (MQTT 5's
    Maximum Packet Size, section 3.1.2.11.4): the broker then never sends a bigger message, so a
    20 MB publish is not even read. A broker that speaks only MQTT 3.1.1 refuses that connection
    (CONNACK 0x01, which paho reports as "Unsupported protocol version"): the watcher says so once
    and connects again with 3.1.1, where a big message is read, then refused unparsed.
    `fleet_args` go to `Fleet` (max_devices, forget_s)."""
    fleet = Fleet(target.prefix, log=log, **fleet_args)
    stop = stop or threading.Event()
    state = {"up": False, "closing": False, "mqtt5": True, "refused_mqtt5": False}
    client = _subscriber(target, ca, fleet, state, stop, log)
    end = None if duration is None else time.monotonic() + duration
    try:
        while not stop.is_set():
            wait = every if end is None else min(every, max(0.0, end - time.monotonic()))
            if stop.wait(wait):
                break
            if state["refused_mqtt5"] and state["mqtt5"]:  # here: paho's thread cannot stop itself
                state["mqtt5"] = False
                _close(client, state)
                log(
                    f"watch: {target} speaks MQTT 3.1.1, not 5; watching with 3.1.1, where a message over "
                    f"{watch_message.MAX_BYTES // 1024} KiB is received before it is dropped."
                )
                state["closing"] = False
                client = _subscriber(target, ca, fleet, state, stop, log)
            on_update(fleet)
            if end is not None and time.monotonic() >= end:
                break
    finally:
        _close(client, state)
    return fleet


def _subscriber(target, ca, fleet, state, stop, log):
    """A paho client, connecting in the background, that feeds `fleet` (MQTT 5 while `state` says so)."""
    mqtt5 = state["mqtt5"]
    client = broker.client(target, f"edgecell-watch-{int(time.time() * 1000) % 10**9}", ca, mqtt5=mqtt5)
    from paho.mqtt.packettypes import PacketTypes  # here: broker.client says how to install paho
    from paho.mqtt.properties import Properties

    topics = [(target.topic("+", kind), 1) for kind in KINDS]

    def on_connect(client, userdata, flags, reason, properties):
        if reason.is_failure:
            if mqtt5 and reason.value == UNSUPPORTED_PROTOCOL:
                state["refused_mqtt5"] = True  # the watch loop connects again with 3.1.1
                return
            log(f"watch: {target} refused the connection ({reason}).")
            return
        state["up"] = True
        client.subscribe(topics)

    def on_disconnect(client, userdata, flags, reason, properties):
        if state["up"] and not stop.is_set() and not state["closing"]:
            log(f"watch: lost {target} ({reason}); reconnecting.")
        state["up"] = False

    def on_message(client, userdata, message):
        try:  # paho's network thread: an exception here would end it, and the table would go stale
            fleet.on_message(message.topic, message.payload)
        except Exception as error:
            log(f"watch: a message could not be read ({type(error).__name__}); dropped.")

    client.on_connect, client.on_disconnect, client.on_message = on_connect, on_disconnect, on_message
    client.on_connect_fail = lambda client, userdata: log(f"watch: cannot reach {target}; retrying.")
    client.reconnect_delay_set(1, 30)
    properties = None
    if mqtt5:
        properties = Properties(PacketTypes.CONNECT)
        properties.MaximumPacketSize = MAX_PACKET
    client.connect_async(target.host, target.port, keepalive=30, properties=properties)
    client.loop_start()
    return client


def _close(client, state):
    state["closing"] = True  # our own disconnect is no lost broker
    client.disconnect()
    client.loop_stop()


def _cut(text: str) -> str:
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def _num(value, digits) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _iso(seconds):
    if seconds is None:
        return None
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).isoformat(timespec="seconds")
