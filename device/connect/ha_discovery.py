"""Home Assistant's MQTT discovery: retained config messages that make a board's class, rate and
latency appear as sensors of one device, with no YAML (home-assistant.io/integrations/mqtt,
"MQTT Discovery"). The class sensor follows the event topic, so it changes when the scene does,
not every frame; all three go unavailable when the board's status says offline.
"""

import json

DISCOVERY_PREFIX = "homeassistant"


def configs(target, device: str, model: str) -> list:
    """[(topic, payload)] to publish retained when the board connects."""
    status = target.topic(device, "status")
    node = f"edgecell_{device}".replace("-", "_")
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
        out.append((f"{DISCOVERY_PREFIX}/sensor/{node}/{key}/config", json.dumps(config)))
    return out
