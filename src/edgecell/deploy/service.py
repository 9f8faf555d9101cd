"""Restart the board's edgecell-infer service on the model just switched to, and wait until it is
healthy: systemd says active and its results file has grown (a row was written since the restart).

The unit is the one device/install.sh writes to PREFIX; deploy installs it when it is not installed
yet and adds a drop-in pointing EDGECELL_MODEL at PREFIX/models/NAME/current, so a later switch or
rollback only needs a restart. Root or passwordless sudo is needed for systemctl on the board.
"""

from edgecell.deploy.board import BoardFailed, Facts, last_line
from edgecell.deploy.ssh import Host, Ssh

UNIT = "edgecell-infer"
HEALTHY_WITHIN_S = 60

RESTART = r"""
p="$1"; n="$2"; wait="$3"; drop_in="$4"
sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo -n"
unit=/etc/systemd/system/edgecell-infer.service
if [ ! -f "$unit" ]; then $sudo install -m 644 "$p/edgecell-infer.service" "$unit" || exit 3; fi
$sudo mkdir -p "$unit.d" || exit 3
printf '%s\n' "$drop_in" | $sudo tee "$unit.d/edgecell-deploy.conf" >/dev/null || exit 3
results=$(systemctl show -p Environment edgecell-infer | tr ' ' '\n' | sed -n 's/^EDGECELL_RESULTS=//p')
before=$(stat -c %s "$results" 2>/dev/null || echo 0)
$sudo systemctl daemon-reload && $sudo systemctl enable edgecell-infer >/dev/null 2>&1 \
  && $sudo systemctl restart edgecell-infer || exit 4
i=0
while [ "$i" -lt "$wait" ]; do
  sleep 1; i=$((i + 1))
  now=$(stat -c %s "$results" 2>/dev/null || echo 0)
  if systemctl is-active --quiet edgecell-infer && [ "$now" != "$before" ]; then echo "healthy=$i"; exit 0; fi
done
systemctl status edgecell-infer --no-pager -n 3 >&2
exit 5
"""


def drop_in(prefix: str, name: str) -> str:
    """The drop-in pointing the unit at PREFIX/models/NAME/current. The assignment is double-quoted
    with \\ and " escaped and % doubled (systemd.syntax(7), systemd.unit(5)), so a prefix with a
    space or a % is the path itself, not two words or a specifier."""
    path = f"{prefix}/models/{name}/current"
    quoted = path.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    return f'[Service]\nEnvironment="EDGECELL_MODEL={quoted}"'


def restart(ssh: Ssh, host: Host, facts: Facts, name: str) -> str:
    """Restart the service and wait for it; one sentence on what happened. A board without systemd
    running (a container, a minimal image) is said so and nothing is restarted."""
    if not facts.systemd:
        return "no systemd running on this board: the service was not restarted"
    args = [facts.prefix, name, HEALTHY_WITHIN_S, drop_in(facts.prefix, name)]
    answer = ssh.run(host, RESTART, args, timeout=HEALTHY_WITHIN_S + 60)
    if answer.code == 3:
        raise BoardFailed(
            f"the service unit could not be installed (root or passwordless sudo needed): {last_line(answer.err)}"
        )
    if answer.code == 4:
        raise BoardFailed(f"systemctl could not restart {UNIT}: {last_line(answer.err)}")
    if answer.code != 0:
        raise BoardFailed(
            f"{UNIT} did not become healthy within {HEALTHY_WITHIN_S} s (active and writing results): "
            f"{last_line(answer.err)}"
        )
    return f"service restarted, healthy after {answer.out.strip().removeprefix('healthy=')} s"
