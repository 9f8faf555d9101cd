"""Home Assistant's MQTT discovery: retained config messages that make a board's class, rate and
latency appear as sensors of one device, with no YAML (home-assistant.io/integrations/mqtt,
"MQTT Discovery"). The class sensor follows the event topic, so it changes when the scene does,
not every frame; all three go unavailable when the board's status says offline.

Home Assistant reads a discovery topic only when its node and object ids match `[a-zA-Z0-9_-]`
(`my pi` or `pi.kitchen` would be ignored) and makes entity ids of lower-case letters, digits and
`_`. So the node id is `edgecell_` and the device id lower-cased with every other character made
`_`, as Home Assistant's own slugs are: the entity stays `sensor.edgecell_<id>_label`. Two boards
whose ids meet there (`pi-1` and `pi_1`) would overwrite each other's config: before announcing,
a board reads the retained config under its node id, and one that another board's status topic
owns is `clash`, and not overwritten.
"""

import json
import re

DISCOVERY_PREFIX = "homeassistant"
WAIT_S = 0.5  # after subscribing, how long a retained config of the node id has to arrive


def node_id(device: str) -> str:
    """The device's node id in Home Assistant: `edgecell_` and `[a-z0-9_]` only."""
    return "edgecell_" + re.sub(r"[^a-z0-9_]", "_", device.lower())


def config_topic(device: str, key: str = "label") -> str:
    return f"{DISCOVERY_PREFIX}/sensor/{node_id(device)}/{key}/config"


def clash(target, device: str, payload: bytes):
    """The status topic of another board that owns `device`'s node id, from the retained config
    `payload` found there; None when it is free or this board's own."""
    if len(payload) > 64 * 1024:  # no config edgecell writes: ours to replace, unread
        return None
    try:
        owner = json.loads(payload).get("availability_topic")
    except (ValueError, AttributeError):
        owner = None  # not a config edgecell wrote: ours to replace
    return owner if isinstance(owner, str) and owner != target.topic(device, "status") else None


def refusal(device: str, owner: str) -> str:
    return (
        f"mqtt: --device-id {device!r} gives Home Assistant the id {node_id(device)}, which the board of "
        f"{owner!r} already has; not announcing this board to Home Assistant (give it an id no other board "
        "has once lower-cased, with _ for every character but letters and digits)."
    )


def configs(target, device: str, model: str) -> list:
    """[(topic, payload)] to publish retained when the board connects."""
    status = target.topic(device, "status")
    node = node_id(device)
    about = {"identifiers": [node], "name": f"edgecell {device}", "manufacturer": "edgecell", "model": model}
    sensors = [
        (
            "label",
            "class",
            target.topic(device, "event"),
            "{{ value_json.label }}",
            {"json_attributes_topic": target.topic(device, "event")},
        ),
        (
            "rate",
            "images per second",
            target.topic(device, "stats"),
            "{{ value_json.images_per_second }}",
            {"unit_of_measurement": "img/s", "state_class": "measurement"},
        ),
        (
            "latency",
            "latency p50",
            target.topic(device, "stats"),
            "{{ value_json.latency_ms.p50 }}",
            {"unit_of_measurement": "ms", "state_class": "measurement"},
        ),
    ]
    out = []
    for key, name, state_topic, template, extra in sensors:
        config = {
            "name": name,
            "unique_id": f"{node}_{key}",
            "object_id": f"{node}_{key}",
            "state_topic": state_topic,
            "value_template": template,
            "availability_topic": status,
            "payload_available": "online",
            "payload_not_available": "offline",
            "device": about,
            **extra,
        }
        out.append((config_topic(device, key), json.dumps(config)))
    return out
