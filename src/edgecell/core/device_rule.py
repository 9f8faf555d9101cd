"""The one rule for a board's name (`--device-id`, install.sh's `--device-id`, EDGECELL_DEVICE_ID).

A device id is one MQTT topic level (`PREFIX/DEVICE/result`), part of a Home Assistant object id
and of a file name (the outbox folder), and install.sh writes it for the unit: letters, digits,
`_` and `-`, 1 to 64 characters, are taken as they are by all four. device/install.sh checks the
same pattern in bash; keep the two in step.
"""

import re

from edgecell.core.printable import printable

PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
RULE = "one MQTT topic level of letters, digits, _ and - (1 to 64 characters)"


def problem(device: str):
    """None for a good device id, else the sentence saying why it is not one."""
    if PATTERN.fullmatch(device):
        return None
    return f"--device-id {printable(repr(device))} must be {RULE}, e.g. kitchen-pi."
