"""What `edgecell infer` reports to beyond its terminal and results file: MQTT, a webhook, and the
class-change events both carry (docs/connecting.md).

`Connections` holds the settings and checks them before anything starts; `start` makes the sinks
(`device/connect/mqtt.py`, `device/connect/webhook.py`) and the events `Detector`; each sink gives its own part of the
summary after the run (`sinks/base.py`).
"""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from edgecell.core.errors import EdgecellError
from edgecell.device.connect import broker
from edgecell.device.loop import events


@dataclass(frozen=True)
class Connections:
    """The flags of `edgecell infer` that reach the house, under the flags' own names."""

    mqtt: Optional[str] = None  # mqtt://[user:pass@]host[:port]/PREFIX or mqtts://...
    mqtt_ca: Optional[Path] = None
    device_id: Optional[str] = None  # default: the host name
    stats_every: float = 10.0
    ha_discovery: bool = False
    mqtt_outbox: Optional[Path] = None  # default: ~/.cache/edgecell/outbox/DEVICE
    mqtt_outbox_mb: float = 64.0
    mqtt_batch: bool = True  # results that come together go as one MQTT message (mqtt.Publishing.batch)
    webhook: Optional[str] = None
    smooth: Optional[int] = None  # frames in the scores' moving mean
    hold: Optional[int] = None  # frames the new class must hold

    @property
    def events(self) -> bool:
        return any(v is not None for v in (self.smooth, self.hold, self.mqtt, self.webhook))

    def check(self) -> None:
        """One sentence for the first bad setting, before the model loads or a thread starts."""
        if self.mqtt is not None:
            broker.parse_url(self.mqtt)
            broker.device_id(self.device_id)
        else:
            for name, given in (("--mqtt-ca", self.mqtt_ca), ("--ha-discovery", self.ha_discovery or None)):
                if given is not None:
                    raise EdgecellError(f"{name} applies to MQTT; give --mqtt mqtt://broker/PREFIX too.")
        if self.webhook is not None:
            from edgecell.device.connect import webhook  # urllib.request only when asked for

            webhook.check_url(self.webhook)
        if self.mqtt_outbox_mb <= 0 or self.stats_every <= 0:
            raise EdgecellError("--mqtt-outbox-mb and --stats-every must be above 0.")

    def outbox_folder(self, device: str) -> Path:
        if self.mqtt_outbox is not None:
            return Path(self.mqtt_outbox)
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        return cache / "edgecell" / "outbox" / device


def start(connections: Connections, classifier, threshold: float = 0.0, log=print):
    """(sinks, detector or None) for `connections`; the caller closes the sinks."""
    detector = None
    if connections.events:
        detector = events.Detector(classifier.labels, connections.smooth or 1, connections.hold or 1, threshold)
    sinks = []
    if connections.mqtt is None and connections.webhook is None:
        return sinks, detector
    device = broker.device_id(connections.device_id)
    if connections.mqtt is not None:
        from edgecell.device.connect.mqtt import Publisher, Publishing  # paho-mqtt only when asked for

        target = broker.parse_url(connections.mqtt)
        sinks.append(
            Publisher(
                target,
                device,
                connections.outbox_folder(device),
                Publishing(
                    outbox_mb=connections.mqtt_outbox_mb,
                    stats_every=connections.stats_every,
                    ca=connections.mqtt_ca,
                    ha_discovery=connections.ha_discovery,
                    model=classifier.path.name,
                    batch=connections.mqtt_batch,
                ),
                log=log,
            )
        )
    if connections.webhook is not None:
        from edgecell.device.connect import webhook

        sinks.append(webhook.Webhook(connections.webhook, device, log=log))
    return sinks, detector
