"""`infer --mqtt`: every result, every event and the run's statistics to an MQTT broker.

Topics under `PREFIX/DEVICE/`: `result` (a result alone: the JSONL row plus `device`, `run` and
`seq`, QoS 1), `results` (results that came together, see below), `event` (class changes, QoS 1),
`status` (retained `online`; the last will sets it to `offline` when the board vanishes) and
`stats` (retained, every `stats_every` seconds).

Results that arrive faster than the publisher thread wakes (`BATCH_S`: a folder, a fast camera) go
as one QoS 1 message on `results`, `{"format": "edgecell.results/1", "device", "run", "count",
"results": [row, ...]}`, each row as `result` would carry it (its own `seq` and `time`), at most
`MOST_IN_BATCH` to a message; one publish and one acknowledgement for many results is what keeps
`--mqtt` nearly free for the loop (benchmarks/mqtt.py). A result that came alone still goes on
`result`, and `Publishing(batch=False)` (`--no-mqtt-batch`) sends every result that way. What
waits in the outbox is kept a record a result (a batch not yet acknowledged at the end is split
back), so its counts are counts of results.

The broker going away must never stop or slow the classification. `write` only puts the result
on a bounded in-memory queue (a full queue counts a drop, it never waits); a publisher
thread hands records to paho-mqtt, keeping at most `WINDOW` unacknowledged. Whenever the broker is
away, that window is full, or older records still wait, records go to the on-disk `Outbox` (capped
in bytes, drops counted) and are sent from there, oldest first, once the broker is back: results
arrive in the order they were classified. paho reconnects with back-off; each lost or refused
connection is one line on stderr. Results reach subscribers at least once (QoS 1): a record
whose acknowledgement was lost with the connection is sent again, so consumers skip a
(`run`, `seq`) they have seen. `seq` counts from 1 in each run and `run` is a random id drawn when
the run starts, as a journald cursor pairs its sequence number with the boot and file it belongs
to: after a restart, `seq` 1 again is a new result, and results the last run left in the outbox
keep that run's id.
"""

import collections
import datetime
import json
import queue
import secrets
import sys
import threading
import time
from dataclasses import dataclass
from typing import Optional

from edgecell.core.printable import printable
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
MOST_IN_BATCH = 100  # results in one `results` message (about 30 KB of JSON)
BATCH_FORMAT = "edgecell.results/1"  # a `results` message's format, changed only with its number
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
    batch: bool = True  # results that come together in one `results` message; False: each on `result`


class Publisher(Sink):
    key = "mqtt"

    def __init__(self, target: broker.Target, device: str, outbox_dir, publishing: Publishing = Publishing(), log=None):
        ca, ha_discovery, reconnect = publishing.ca, publishing.ha_discovery, publishing.reconnect
        self.target, self.device, self.stats_every = target, device, publishing.stats_every
        self.model = publishing.model
        self.log = log or (lambda message: print(message, file=sys.stderr, flush=True))
        self.outbox = Outbox(outbox_dir, int(publishing.outbox_mb * 1024 * 1024))
        if self.outbox.torn:
            self.log(
                f"mqtt: the outbox {self.outbox.folder} ended in a record cut short (a crash or power cut "
                "mid-write); it was cut off and the records before it are sent."
            )
        self.batch = publishing.batch
        names = ("result", "results", "event", "drift", "status", "stats")
        self.topics = {name: target.topic(device, name) for name in names}
        self.run = secrets.token_hex(8)  # with `seq`, a result's identity across restarts
        self.seq = self.done = self.failed = self.events = 0
        self.delivered = self.memory_drops = self.reconnects = self.damaged = 0
        self.last_label = None
        self.drift = None  # the run's drift tracker (loop/drift.py), when the model has a reference
        self._recent = collections.deque(maxlen=4096)  # (monotonic time, total ms) of recent results
        self._started = time.monotonic()
        self._queue = queue.Queue(MEMORY_QUEUE)
        self._pending = collections.OrderedDict()  # mid -> (topic, payload, results in it), publisher thread
        self._acked = collections.deque()  # mids paho acknowledged (its thread) for ours to settle
        self._connected = threading.Event()
        self._ever_connected = False
        self._failures = 0
        self._delays = reconnect
        self._ha = ha_discovery
        self._ha_due = None  # when to announce to Home Assistant, once a clash had time to show
        self._ha_owner = None  # the status topic of another board holding our node id
        self._ha_refused = False
        self._client = broker.client(target, f"edgecell-{device}", ca)
        self._client.will_set(self.topics["status"], "offline", qos=1, retain=True)
        self._client.reconnect_delay_set(*reconnect)
        self._client.max_inflight_messages_set(WINDOW)
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
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
        self._put(_RESULT, (self.seq, time.time(), result))  # the time and the JSON made on the publisher thread

    def follow(self, drift) -> None:
        self.drift = drift  # its report() in the stats message

    def event(self, event) -> None:
        found = event.as_dict()
        if found["type"] == "drift":  # its own topic: Home Assistant's class sensor follows the event topic
            self._put(self.topics["drift"], json.dumps({**found, "device": self.device}, ensure_ascii=False))
            return
        self.events += 1
        self._put(self.topics["event"], json.dumps({**found, "device": self.device}, ensure_ascii=False))

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
        unacknowledged = [record for message in self._pending.values() for record in self._records(*message)]
        self.outbox.close(front=unacknowledged)
        self._waiting = len(self._pending) + len(self.outbox)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def report(self) -> dict:
        """For the run's summary (after `close`)."""
        return {
            "broker": str(self.target),
            "device": self.device,
            "run": self.run,
            "delivered": self.delivered,
            "waiting_on_disk": getattr(self, "_waiting", len(self.outbox)),
            "dropped": self._dropped(),
            "damaged": self.outbox.torn + self.damaged,
            "reconnects": self.reconnects,
            "outbox": str(self.outbox.folder),
        }

    # --- the publisher thread -------------------------------------------------------------------

    def lines(self, report: dict) -> list:
        return [
            f"mqtt {report['broker']} as {report['device']}: {report['delivered']} delivered, "
            f"{report['waiting_on_disk']} waiting on disk ({report['outbox']}), {report['dropped']} dropped"
            + (f" ({report['damaged']} damaged on disk)" if report["damaged"] else "")
            + f", {report['reconnects']} reconnect(s)"
        ]

    def _run(self):
        next_stats = time.monotonic() + self.stats_every
        closing = None
        while True:
            together = []  # results taken in a row, to go as one message
            for item in self._batch():
                if item is not _CLOSE and item[0] is _RESULT:
                    together.append(item[1])
                    if len(together) < MOST_IN_BATCH:
                        continue
                self._take_results(together)
                together = []
                if item is _CLOSE:
                    closing = time.monotonic() + LINGER_S
                elif item[0] is not _RESULT:
                    self._deliver(*item)
            self._take_results(together)
            self._settle()
            self._feed()
            self.outbox.sync()  # what waits on disk reaches it within `outbox.SYNC_S` of its append
            if time.monotonic() >= next_stats:
                next_stats = time.monotonic() + self.stats_every
                self._publish_stats()
            self._announce()
            if closing is not None and self._queue.empty():
                idle = not self._pending and not len(self.outbox) and self._ha_due is None
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

    def _take_results(self, together: list):
        """Results taken in a row: one on `result` (or each, without batching), else one `results` message."""
        rows = [self._row(*queued) for queued in together]
        if len(rows) == 1 or not self.batch or self._offline():  # the outbox keeps a record a result
            for one in rows:
                self._deliver(self.topics["result"], json.dumps(one, ensure_ascii=False))
        elif rows:
            batch = {
                "format": BATCH_FORMAT,
                "device": self.device,
                "run": self.run,
                "count": len(rows),
                "results": rows,
            }
            self._deliver(self.topics["results"], json.dumps(batch, ensure_ascii=False), len(rows))

    def _row(self, seq, when: float, result) -> dict:
        """`result` as the result topic carries it; `time` (and `time_utc`) is when the loop gave it."""
        stamp = datetime.datetime.fromtimestamp(when, datetime.timezone.utc).isoformat(timespec="milliseconds")
        payload = row(result, stamp.replace("+00:00", "Z"))
        payload.update(device=self.device, run=self.run, seq=seq, time=stamp)
        return payload

    def _offline(self) -> bool:
        """Whether what comes now goes to the outbox: the broker is away, the window full, or older
        records still wait there (results arrive in the order they were classified)."""
        return bool(len(self.outbox)) or not self._connected.is_set() or len(self._pending) >= WINDOW

    def _deliver(self, topic, payload, results: int = 1):
        if self._offline():
            self.outbox.append(_record(topic, payload))
        else:
            self._send(topic, payload, results)

    def _send(self, topic, payload, results: int = 1):
        info = self._client.publish(topic, payload, qos=1)
        self._pending[info.mid] = (topic, payload, results)

    def _records(self, topic, payload, results: int):
        """A message as outbox records: a `results` message as one record a result, so that the
        outbox's counts (waiting, dropped) stay counts of results."""
        if results == 1 or topic != self.topics["results"]:
            return [_record(topic, payload)]
        return [
            _record(self.topics["result"], json.dumps(one, ensure_ascii=False))
            for one in json.loads(payload)["results"]
        ]

    def _settle(self):
        while self._acked:
            if (sent := self._pending.pop(self._acked.popleft(), None)) is not None:
                self.delivered += sent[2]

    def _feed(self):
        """Send from the outbox, oldest first, while the broker is there and the window has room."""
        while len(self._pending) < WINDOW and self._connected.is_set() and (record := self.outbox.peek()):
            self.outbox.pop()
            try:
                self._send(*_unrecord(record))
            except ValueError:  # not what `_record` wrote (a disk that returned garbage): skip it
                self._damaged(record)

    def _damaged(self, record: bytes):
        self.damaged += 1
        if self.damaged == 1:
            self.log(
                f"mqtt: the outbox {self.outbox.folder} held a record that is not a topic and a message "
                f"({printable(record[:60])}); it was dropped, and any more are counted in the summary."
            )

    def _announce(self):
        """Home Assistant's configs, unless another board owns the node id (ha_discovery.clash)."""
        if self._ha_due is None or time.monotonic() < self._ha_due or not self._connected.is_set():
            return
        self._ha_due = None
        self._client.unsubscribe(ha_discovery.config_topic(self.device))
        if self._ha_owner is not None:
            if not self._ha_refused:
                self._ha_refused = True
                self.log(ha_discovery.refusal(self.device, self._ha_owner))
            return
        for topic, payload in ha_discovery.configs(self.target, self.device, self.model):
            self._client.publish(topic, payload, qos=1, retain=True)

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
            "run": self.run,
            "time": utc_now(),
            "uptime_s": round(now - self._started, 1),
            "images": {"done": self.done, "failed": self.failed},
            "images_per_second": round(len(recent) / span, 3) if span > 0 else 0.0,
            "latency_ms": {"p50": _round(p50), "p90": _round(p90)},
            "last_label": self.last_label,
            "events": self.events,
            "cpu_temperature_c": machine.cpu_temperature_c(),
            "throttled": machine.throttled(),
            "outbox": {"waiting": len(self.outbox), "dropped": self._dropped()},
            "model": self.model,
            **({"drift": self.drift.report()} if self.drift is not None else {}),
        }

    def _dropped(self) -> int:
        return self.outbox.dropped + self.memory_drops + self.outbox.torn + self.damaged

    # --- paho's network thread ------------------------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason, properties):
        if reason.is_failure:
            self.log(f"mqtt: {self.target} refused the connection ({reason}); retrying with back-off.")
            return
        client.publish(self.topics["status"], "online", qos=1, retain=True)
        if self._ha:  # announced by the publisher thread once a retained config had time to arrive
            self._ha_owner = None
            client.subscribe(ha_discovery.config_topic(self.device), qos=1)
            self._ha_due = time.monotonic() + ha_discovery.WAIT_S
        if self._ever_connected or self._failures:
            self.log(f"mqtt: connected to {self.target} again; sending what waited.")
        self._ever_connected, self._failures = True, 0
        self._connected.set()

    def _on_message(self, client, userdata, message):
        try:  # the one subscription: the retained config under our Home Assistant node id
            owner = ha_discovery.clash(self.target, self.device, message.payload)
        except Exception:  # whatever it holds, it must not end paho's network thread
            owner = None
        if owner is not None:
            self._ha_owner = owner

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
    """(topic, payload) of a record; ValueError for one `_record` did not write."""
    topic, payload = record.decode("utf-8").split("\t", 1)
    if not broker.is_topic(topic):  # a broker disconnects a client that publishes there, again and again
        raise ValueError(f"not a topic: {topic!r}")
    return topic, payload


def _round(value):
    return None if value is None else round(float(value), 3)
