"""`infer --mqtt`: every result, every event and the run's statistics to an MQTT broker.

Topics under `PREFIX/DEVICE/`: `result` (every result: the JSONL row plus `device` and `seq`,
QoS 1), `event` (class changes, QoS 1), `status` (retained `online`; the last will sets it to
`offline` when the board vanishes) and `stats` (retained, every `stats_every` seconds).

The broker going away must never stop or slow the classification. `write` only puts the result
on a bounded in-memory queue (a full queue counts a drop, it never waits); a publisher
thread hands records to paho-mqtt, keeping at most `WINDOW` unacknowledged. Whenever the broker is
away, that window is full, or older records still wait, records go to the on-disk `Outbox` (capped
in bytes, drops counted) and are sent from there, oldest first, once the broker is back: results
arrive in the order they were classified. paho reconnects with back-off; each lost or refused
connection is one line on stderr. Results reach subscribers at least once (QoS 1): a record
whose acknowledgement was lost with the connection is sent again, so consumers skip a `seq`
they have seen.
"""

import collections
import json
import queue
import sys
import threading
import time
from dataclasses import dataclass
from typing import Optional

from edgecell.device.connect import broker, ha_discovery
from edgecell.device.connect.outbox import Outbox
from edgecell.device.loop.events import utc_now
from edgecell.device.loop.result import row
from edgecell.device.measure import machine, stats
from edgecell.device.sinks.base import Sink

WINDOW = 100  # records handed to paho and not yet acknowledged
MEMORY_QUEUE = 2000  # records between the inference loop and the publisher thread
BATCH_S = 0.05  # the publisher thread wakes at most this often while results come
LINGER_S = 5.0  # at the end, how long to wait for a connected broker to take what is left
_CLOSE = object()
_RESULT = object()  # a queued result, to encode as the result topic's JSON


@dataclass(frozen=True)
class Publishing:
    """How a Publisher publishes, besides where: the outbox's cap, the stats period, TLS, discovery."""

    outbox_mb: float = 64.0  # what waits on disk while the broker is away; the oldest goes first
    stats_every: float = 10.0  # seconds between stats messages
    ca: Optional[str] = None  # CA file for mqtts:// (None: the system's)
    ha_discovery: bool = False  # announce the sensors to Home Assistant
    model: str = ""  # the model's file name, in status and discovery
    reconnect: tuple = (1, 30)  # paho's reconnect delay, first and longest (s)


class Publisher(Sink):
    key = "mqtt"

    def __init__(self, target: broker.Target, device: str, outbox_dir, publishing: Publishing = Publishing(), log=None):
        ca, ha_discovery, reconnect = publishing.ca, publishing.ha_discovery, publishing.reconnect
        self.target, self.device, self.stats_every = target, device, publishing.stats_every
        self.model = publishing.model
        self.log = log or (lambda message: print(message, file=sys.stderr, flush=True))
        self.outbox = Outbox(outbox_dir, int(publishing.outbox_mb * 1024 * 1024))
        self.topics = {name: target.topic(device, name) for name in ("result", "event", "status", "stats")}
        self.seq = self.done = self.failed = self.events = 0
        self.delivered = self.memory_drops = self.reconnects = 0
        self.last_label = None
        self.drift = None  # the run's drift tracker (loop/drift.py), when the model has a reference
        self._recent = collections.deque(maxlen=4096)  # (monotonic time, total ms) of recent results
        self._started = time.monotonic()
        self._queue = queue.Queue(MEMORY_QUEUE)
        self._pending = collections.OrderedDict()  # mid -> (topic, payload), publisher thread only
        self._acked = collections.deque()  # mids paho acknowledged (its thread) for ours to settle
        self._connected = threading.Event()
        self._ever_connected = False
        self._failures = 0
        self._delays = reconnect
        self._ha = ha_discovery
        self._client = broker.client(target, f"edgecell-{device}", ca)
        self._client.will_set(self.topics["status"], "offline", qos=1, retain=True)
        self._client.reconnect_delay_set(*reconnect)
        self._client.max_inflight_messages_set(WINDOW)
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = lambda client, userdata, mid, reason, properties: self._acked.append(mid)
        self._client.connect_async(target.host, target.port, keepalive=30)
        self._client.loop_start()
        self._thread = threading.Thread(target=self._run, name="mqtt-publisher", daemon=True)
        self._thread.start()

    # --- the inference loop's side: never waits -------------------------------------------------
    def write(self, result) -> None:
        self.seq += 1
        if result.error is None:
            self.done += 1
            self.last_label = result.classes[0].label if result.classes else None
            self._recent.append((time.monotonic(), result.timing.total))
        else:
            self.failed += 1
        self._put(_RESULT, (self.seq, utc_now(), result))  # encoded on the publisher thread

    def follow(self, drift) -> None:
        self.drift = drift  # its report() in the stats message

    def event(self, event) -> None:
        self.events += 1
        self._put(self.topics["event"], json.dumps({**event.as_dict(), "device": self.device}, ensure_ascii=False))

    def _put(self, topic, payload):
        try:
            self._queue.put_nowait((topic, payload))
        except queue.Full:
            self.memory_drops += 1

    def close(self) -> None:
        if self._thread is None:
            return
        self._queue.put(_CLOSE)
        self._thread.join()
        self._thread = None
        if self._connected.is_set():
            self._client.publish(self.topics["status"], "offline", qos=1, retain=True).wait_for_publish(2)
        self._client.disconnect()
        self._client.loop_stop()
        self._settle()
        self.outbox.close(front=[_record(*message) for message in self._pending.values()])
        self._waiting = len(self._pending) + len(self.outbox)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def report(self) -> dict:
        """For the run's summary (after `close`)."""
        return {
            "broker": str(self.target),
            "device": self.device,
            "delivered": self.delivered,
            "waiting_on_disk": getattr(self, "_waiting", len(self.outbox)),
            "dropped": self.outbox.dropped + self.memory_drops,
            "reconnects": self.reconnects,
            "outbox": str(self.outbox.folder),
        }

    # --- the publisher thread -------------------------------------------------------------------

    def lines(self, report: dict) -> list:
        return [
            f"mqtt {report['broker']} as {report['device']}: {report['delivered']} delivered, "
            f"{report['waiting_on_disk']} waiting on disk ({report['outbox']}), {report['dropped']} dropped, "
            f"{report['reconnects']} reconnect(s)"
        ]

    def _run(self):
        next_stats = time.monotonic() + self.stats_every
        closing = None
        while True:
            for item in self._batch():
                if item is _CLOSE:
                    closing = time.monotonic() + LINGER_S
                else:
                    self._take(*item)
            self._settle()
            self._feed()
            if time.monotonic() >= next_stats:
                next_stats = time.monotonic() + self.stats_every
                self._publish_stats()
            if closing is not None and self._queue.empty():
                idle = not self._pending and not len(self.outbox)
                # a broker known to be away ends the wait at once; a first connection still being
                # made (a short run over a few files) gets the `LINGER_S` a connected one gets
                away = not self._connected.is_set() and (self._failures or self._ever_connected)
                if idle or away or time.monotonic() > closing:
                    return

    def _batch(self) -> list:
        """What the loop put on the queue, taken in one go every `BATCH_S` at most: one wake-up
        of this thread and of paho's per batch rather than per result keeps the CPU they take
        from the loop small (see benchmarks/mqtt.py)."""
        try:
            items = [self._queue.get(timeout=0.05)]
        except queue.Empty:
            return []
        time.sleep(BATCH_S)
        try:
            while True:
                items.append(self._queue.get_nowait())
        except queue.Empty:
            return items

    def _take(self, topic, payload):
        if topic is _RESULT:
            seq, when, result = payload
            payload = row(result)
            payload.update(device=self.device, seq=seq, time=when)
            topic, payload = self.topics["result"], json.dumps(payload, ensure_ascii=False)
        if len(self.outbox) or not self._connected.is_set() or len(self._pending) >= WINDOW:
            self.outbox.append(_record(topic, payload))
        else:
            self._send(topic, payload)

    def _send(self, topic, payload):
        info = self._client.publish(topic, payload, qos=1)
        self._pending[info.mid] = (topic, payload)

    def _settle(self):
        while self._acked:
            if self._pending.pop(self._acked.popleft(), None) is not None:
                self.delivered += 1

    def _feed(self):
        """Send from the outbox, oldest first, while the broker is there and the window has room."""
        while len(self._pending) < WINDOW and self._connected.is_set() and (record := self.outbox.peek()):
            self._send(*_unrecord(record))
            self.outbox.pop()

    def _publish_stats(self):
        if self._connected.is_set():
            self._client.publish(self.topics["stats"], json.dumps(self.statistics()), qos=0, retain=True)

    def statistics(self) -> dict:
        now = time.monotonic()
        span = min(max(self.stats_every, 5.0), now - self._started)
        recent = [ms for t, ms in list(self._recent) if t >= now - span]
        p50, p90 = stats.percentiles(recent, (50, 90)) if recent else (None, None)
        return {
            "device": self.device,
            "time": utc_now(),
            "uptime_s": round(now - self._started, 1),
            "images": {"done": self.done, "failed": self.failed},
            "images_per_second": round(len(recent) / span, 3) if span > 0 else 0.0,
            "latency_ms": {"p50": _round(p50), "p90": _round(p90)},
            "last_label": self.last_label,
            "events": self.events,
            "cpu_temperature_c": machine.cpu_temperature_c(),
            "throttled": machine.throttled(),
            "outbox": {"waiting": len(self.outbox), "dropped": self.outbox.dropped + self.memory_drops},
            "model": self.model,
            **({"drift": self.drift.report()} if self.drift is not None else {}),
        }

    # --- paho's network thread ------------------------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason, properties):
        if reason.is_failure:
            self.log(f"mqtt: {self.target} refused the connection ({reason}); retrying with back-off.")
            return
        client.publish(self.topics["status"], "online", qos=1, retain=True)
        if self._ha:
            for topic, payload in ha_discovery.configs(self.target, self.device, self.model):
                client.publish(topic, payload, qos=1, retain=True)
        if self._ever_connected or self._failures:
            self.log(f"mqtt: connected to {self.target} again; sending what waited.")
        self._ever_connected, self._failures = True, 0
        self._connected.set()

    def _on_connect_fail(self, client, userdata):
        self._failures += 1
        low, high = self._delays
        delay = min(low * 2 ** (self._failures - 1), high)
        self.log(f"mqtt: cannot reach {self.target}; trying again in {delay:g} s (results wait on disk).")

    def _on_disconnect(self, client, userdata, flags, reason, properties):
        if not self._connected.is_set():
            return
        self._connected.clear()
        if self._thread is not None:  # not our own disconnect at the end
            self.reconnects += 1
            self.log(f"mqtt: lost {self.target} ({reason}); reconnecting with back-off, results wait on disk.")


def _record(topic: str, payload: str) -> bytes:
    return f"{topic}\t{payload}".encode()


def _unrecord(record: bytes):
    topic, payload = record.decode().split("\t", 1)
    return topic, payload


def _round(value):
    return None if value is None else round(float(value), 3)
