#!/usr/bin/env bash
# Install edgecell on a Raspberry Pi-class board: a virtual environment holding the base edgecell
# (never TensorFlow) and the TFLite runtime that publishes wheels for this board's CPU.
#
#   aarch64 (Pi 4/5, 64-bit OS)   ai-edge-litert, numpy and OpenCV wheels from PyPI
#   armv7l  (32-bit OS, Pi 2..5)  tflite-runtime 2.14 from PyPI with numpy<2; numpy and OpenCV
#                                 from Debian (python3-numpy, python3-opencv): PyPI has no
#                                 armv7l wheels of them
#   armv6l  (Pi Zero/1)           not supported: no TFLite runtime publishes wheels for it
#
# Run it with --help for the options. It prints every command it runs, then what it did and how
# to undo it. It writes nothing outside --prefix unless --apt is given, or, run as root, --user
# names an account that does not exist yet (it is made, as a system account).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
prefix=""
python="python3"
from=""
picamera=0
system_site=0
no_deps=0
apt=0
dry_run=0
serve=""
mqtt=""
webhook=""
device_id=""
ha_discovery=0
collect=0
model=""
unit_only=0
user=""
created_user=0
machine="$(uname -m)"

usage() {
    cat <<EOF
Usage: bash install.sh [options]

  --prefix DIR        where everything goes: DIR/venv, DIR/results, DIR/edgecell-infer.service
                      (default: \$HOME/edgecell)
  --from SPEC         what pip installs as edgecell: a wheel file or a source folder
                      (default: the edgecell checkout holding this script)
  --picamera          use the Raspberry Pi camera: the venv sees the system's site packages,
                      where apt's python3-picamera2 lives, and keeps numpy below 2 like it
  --system-site-packages
                      let the venv see the system's site packages (implied by --picamera
                      and on 32-bit ARM)
  --apt               install the Debian packages this board needs with apt-get (uses sudo
                      when not root); without it a missing one stops the script with the command
  --serve [HOST:]PORT the service also serves the live page and POST /classify there
  --mqtt URL          the service publishes results, events and stats to this broker:
                      mqtt://[user:pass@]host[:port]/PREFIX (docs/connecting.md)
  --device-id NAME    the board's name in the MQTT topics (default: its host name):
                      letters, digits, _ and -, 1 to 64 characters
  --ha-discovery      announce the board to Home Assistant (MQTT discovery)
  --webhook URL       the service POSTs each class-change event to this URL
                      (docs/connecting.md); a user:pass@ in it is sent as HTTP Basic auth
                      The URLs and the device id go to DIR/edgecell.env (mode 600, read by the
                      unit's EnvironmentFile=), never into the world-readable unit; a --serve
                      address other than 127.0.0.1 gets a random token there, printed once
  --collect           the service keeps the frames its model was unsure of in DIR/collected,
                      for edgecell collect and edgecell review (docs/board.md); set in
                      DIR/edgecell.env as EDGECELL_COLLECT, its cap as EDGECELL_COLLECT_MB
  --model PATH        the model the service runs (default: the shipped demo model)
  --user NAME         the account the service runs as (default: you; required when run as
                      root, which the service never runs as); run as root, a missing NAME is
                      made as a system account in the video group, e.g. --user edgecell
  --python PY         the Python that makes the venv (default: python3)
  --no-deps           install edgecell alone, no dependencies and no runtime (you manage them)
  --machine NAME      plan for this CPU instead of \`uname -m\` (aarch64, armv7l, x86_64)
  --dry-run           print the commands without running them
  --unit-only         write DIR/edgecell-infer.service and DIR/edgecell.env and stop: no venv,
                      no pip, no apt, no account made (needs --model)
  -h, --help          this text
EOF
}

die() { echo "install.sh: $1" >&2; exit "${2:-2}"; }
# A value quoted as an error message shows it: one with a newline or an escape code in bash's
# $'...' form (\n, \E), so the message stays one line and the terminal runs nothing.
shown() { if [[ "$1" =~ [[:cntrl:]] ]]; then printf '%q' "$1"; else printf "'%s'" "$1"; fi; }

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="${2:?--prefix needs a folder}"; shift 2 ;;
        --from) from="${2:?--from needs a wheel or a folder}"; shift 2 ;;
        --picamera) picamera=1; system_site=1; shift ;;
        --system-site-packages) system_site=1; shift ;;
        --apt) apt=1; shift ;;
        --python) python="${2:?--python needs an interpreter}"; shift 2 ;;
        --serve) serve="${2:?--serve needs [HOST:]PORT, e.g. 8080 or 0.0.0.0:8080}"; shift 2 ;;
        --mqtt) mqtt="${2:?--mqtt needs a URL, e.g. mqtt://192.168.1.10/edgecell}"; shift 2 ;;
        --device-id) device_id="${2:?--device-id needs a name}"; shift 2 ;;
        --ha-discovery) ha_discovery=1; shift ;;
        --collect) collect=1; shift ;;
        --model) model="${2:?--model needs a .tflite path}"; shift 2 ;;
        --unit-only) unit_only=1; shift ;;
        --webhook) webhook="${2:?--webhook needs a URL, e.g. http://nodered.lan:1880/edgecell}"; shift 2 ;;
        --user) user="${2:?--user needs an account name}"; shift 2 ;;
        --no-deps) no_deps=1; shift ;;
        --machine) machine="${2:?--machine needs a name}"; shift 2 ;;
        --dry-run) dry_run=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown option $1; see --help for the options." ;;
    esac
done

[ -n "$prefix" ] || prefix="${HOME:?is not set; pass --prefix DIR}/edgecell"

run() {
    echo "+$(printf ' %q' "$@")"
    if [ "$dry_run" = 0 ]; then "$@"; fi
}

# The prefix goes into the unit's paths and through sed: refuse what neither takes as it is.
case "$prefix" in
    /*) ;;
    *) prefix="$(pwd)/$prefix" ;;
esac
if ! [[ "$prefix" =~ ^[A-Za-z0-9/._+@-]+$ ]]; then
    die "--prefix '$prefix' holds a character a systemd unit line or sed cannot take as it is (a space, quote, |, &, \$, ...); choose a folder named with letters, digits and . _ + @ - only."
fi
venv="$prefix/venv"
if [ -n "$serve" ] && ! [[ "$serve" =~ ^[][A-Za-z0-9.:-]+$ ]]; then
    die "--serve '$serve' is not [HOST:]PORT; give e.g. 8080 or 0.0.0.0:8080."
fi
# Every value is checked here, before anything is made. The rule for a device id is the one
# edgecell's own --device-id check uses (src/edgecell/core/device_rule.py): one MQTT topic level and
# a Home Assistant object id as it is.
device_id_ok() { local LC_ALL=C; [[ "$1" =~ ^[A-Za-z0-9_-]{1,64}$ ]]; }   # ASCII ranges, whatever the locale
if [ -n "$device_id" ] && ! device_id_ok "$device_id"; then
    die "--device-id $(shown "$device_id") must be one MQTT topic level of letters, digits, _ and - (1 to 64 characters), e.g. kitchen-pi."
fi
check_url() {  # option, value, the schemes it takes, an example
    if [[ "$2" =~ [[:cntrl:][:space:]] ]]; then
        die "$1 $(shown "$2") holds a space, a newline or another control character; percent-encode it (a space is %20), e.g. $4."
    fi
    [[ "$2" =~ ^($3)://[^/]+ ]] || die "$1 $(shown "$2") is not a $3 URL; give e.g. $4."
}
[ -z "$mqtt" ] || check_url --mqtt "$mqtt" "mqtts?" "mqtt://192.168.1.10/edgecell"
[ -z "$webhook" ] || check_url --webhook "$webhook" "https?" "http://nodered.lan:1880/edgecell"
if [ -n "$model" ]; then
    [[ "$model" =~ ^[A-Za-z0-9/._+@-]+$ ]] \
        || die "--model $(shown "$model") holds a character a systemd unit line cannot take as it is; give a path of letters, digits and . _ + @ - only."
    case "$model" in /*) ;; *) model="$(pwd)/$model" ;; esac
fi
[ "$unit_only" = 0 ] || [ -n "$model" ] || die "--unit-only needs --model PATH: there is no venv to take the demo model from."
# The service never runs as root: as root, name the account it runs as.
if [ -z "$user" ] && [ "$(id -u)" = 0 ]; then
    [ "$dry_run" = 1 ] || die "run as root, this would write a service running as root; pass --user NAME, an account of its own (e.g. sudo useradd --system --groups video edgecell, then --user edgecell)."
elif [ -z "$user" ]; then
    user="$(id -un)"
fi
if [ -n "$user" ] && { [ "$user" = root ] || [ "$user" = nobody ] || ! [[ "$user" =~ ^[a-z_][a-z0-9_-]*[$]?$ ]]; }; then
    die "--user '$user' cannot run the service; give an account of its own (not root, nor nobody, which other services share)."
fi
if [ "$dry_run" = 0 ] && [ "$unit_only" = 0 ]; then
    if ! id -u "$user" >/dev/null 2>&1; then
        [ "$(id -u)" = 0 ] || die "--user $user is not an account on this board; make it with: sudo useradd --system --groups video $user"
        groups=()
        getent group video >/dev/null && groups=(--groups video)
        created_user=1
        run useradd --system --no-create-home --home-dir "$prefix" --shell /usr/sbin/nologin "${groups[@]}" "$user"
    fi
    if [ "$(id -u)" != 0 ] && [ "$user" != "$(id -un)" ]; then
        die "--user $user is another account: run install.sh as root (sudo) to install for it, or leave --user out."
    fi
fi

# 32-bit Raspberry Pi OS on a Pi 4 or 5 boots a 64-bit kernel, so `uname -m` says aarch64 while
# Python and every package are 32-bit: the Python's pointer size decides.
if [ "$machine" = aarch64 ] && command -v "$python" >/dev/null \
    && [ "$("$python" -c 'import struct; print(struct.calcsize("P") * 8)' 2>/dev/null)" = 32 ]; then
    echo "The kernel is 64-bit but $python is 32-bit: installing for armv7l."
    machine="armv7l"
fi

# ---- what this board needs -------------------------------------------------------------------
debian_packages=()     # apt packages whose Python modules the venv uses
pip_extra=()           # requirements installed beside edgecell
pip_no_deps=0          # install edgecell itself without its dependencies
case "$machine" in
    aarch64|arm64|x86_64|amd64)
        runtime="ai-edge-litert"
        if [ "$picamera" = 1 ]; then
            # apt's picamera2 and its compiled helpers are built against numpy 1.x.
            pip_extra+=("numpy<2")
            debian_packages+=(python3-picamera2)
        fi
        ;;
    armv7l|armv8l)
        runtime="tflite-runtime"
        system_site=1
        debian_packages+=(python3-numpy python3-opencv)
        [ "$picamera" = 1 ] && debian_packages+=(python3-picamera2)
        # edgecell's own requirements name opencv-python-headless and ai-edge-litert, neither of
        # which has an armv7l wheel: install it alone, then what it needs on this CPU.
        pip_no_deps=1
        pip_extra+=("tflite-runtime==2.14.0" "numpy<2" "typer>=0.12")
        ;;
    armv6l)
        die "this CPU is armv6l (Pi Zero or Pi 1): neither ai-edge-litert nor tflite-runtime publishes wheels for it; use a Pi Zero 2 W or newer, or build tflite-runtime from source." 3
        ;;
    *)
        die "no TFLite runtime plan for CPU '$machine'; supported: aarch64, armv7l, x86_64 (pass --machine to override)." 3
        ;;
esac

# ---- the service file and edgecell.env, filled in for this install ----------------------------
# The unit is world-readable and systemd reads `%` in it as a specifier and a trailing backslash as
# a continuation, so it holds only paths and values checked above, each Environment= assignment
# double-quoted with \ and " escaped and % doubled (systemd.syntax(7), systemd.unit(5)). The URLs
# (which may carry a password), the device id and the token go to edgecell.env, mode 600, which
# the unit reads with EnvironmentFile= and which overrides the unit's empty defaults.
sed_escape() { printf '%s' "$1" | sed -e 's/[|&\\]/\\&/g'; }
unit_value() { sed_escape "$(printf '%s' "$1" | sed -e 's/[\\"]/\\&/g' -e 's/%/%%/g')"; }
# In edgecell.env a value is double-quoted with \ " ` $ escaped: systemd.exec(5) reads such a
# value as a POSIX shell does, so `set -a; . edgecell.env` in sh gives the same values.
env_value() {
    local v="$1"
    v="${v//\\/\\\\}"; v="${v//\"/\\\"}"; v="${v//\`/\\\`}"; v="${v//\$/\\\$}"
    printf '"%s"' "$v"
}
camera_args="--camera 0"
[ "$picamera" = 1 ] && camera_args="--picamera"
unit="$prefix/edgecell-infer.service"
env_file="$prefix/edgecell.env"

write_unit() {
    # Home folders: hidden from the service unless edgecell lives there, then read-only.
    local protect_home=yes memory_max
    case "$prefix/" in /home/*|/root/*|/run/user/*) protect_home=read-only ;; esac
    # Half the board's memory: a runaway run is stopped (and restarted) before the board swaps.
    memory_max="$(awk '/^MemTotal:/ { printf "%dM", $2 / 2048 }' /proc/meminfo 2>/dev/null || true)"
    [ -n "$memory_max" ] || memory_max="512M"
    mkdir -p "$prefix"
    sed -e "s|@VENV@|$venv|g" -e "s|@PREFIX@|$prefix|g" -e "s|@USER@|$user|g" \
        -e "s|@MODEL@|$(unit_value "$model")|g" -e "s|@CAMERA@|$camera_args|g" \
        -e "s|@SERVE@|$(unit_value "$serve")|g" -e "s|@HA_DISCOVERY@|$ha_discovery|g" \
        -e "s|@PROTECT_HOME@|$protect_home|g" -e "s|@MEMORY_MAX@|$memory_max|g" \
        "$here/edgecell-infer.service" > "$unit.tmp"
    mv "$unit.tmp" "$unit"
}

# NAME VALUE pairs this install sets in edgecell.env; a name it does not set keeps its old line.
env_settings=()
[ -z "$mqtt" ] || env_settings+=(EDGECELL_MQTT "$mqtt")
[ -z "$device_id" ] || env_settings+=(EDGECELL_DEVICE_ID "$device_id")
[ -z "$webhook" ] || env_settings+=(EDGECELL_WEBHOOK "$webhook")
[ "$collect" = 0 ] || env_settings+=(EDGECELL_COLLECT "$prefix/collected")
serve_host="${serve%:*}"
[ "$serve_host" = "$serve" ] && serve_host=""   # a port alone: 127.0.0.1
needs_token=0
case "$serve_host" in
    ""|127.*|localhost|"[::1]") ;;
    *) needs_token=1 ;;  # a server answering beyond the board needs one (edgecell refuses to start without)
esac

write_env() {
    local new_token=""
    if [ "$needs_token" = 1 ] && ! grep -qs '^EDGECELL_TOKEN=.' "$env_file"; then
        new_token="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"   # 128 random bits, as hex
        [ "${#new_token}" = 32 ] || die "could not read 16 random bytes from /dev/urandom for the token."
        env_settings+=(EDGECELL_TOKEN "$new_token")
    fi
    [ "${#env_settings[@]}" -gt 0 ] || [ -e "$env_file" ] || return 0
    local keep="^(" i
    for ((i = 0; i < ${#env_settings[@]}; i += 2)); do keep+="${env_settings[i]}|"; done
    keep="${keep%|})="
    mkdir -p "$prefix"
    (
        umask 077
        tmp="$(mktemp "$env_file.XXXXXX")"
        trap 'rm -f "$tmp"' EXIT
        { grep -Ev "$keep" "$env_file" 2>/dev/null || true; } > "$tmp"
        for ((i = 0; i < ${#env_settings[@]}; i += 2)); do
            printf '%s=%s\n' "${env_settings[i]}" "$(env_value "${env_settings[i + 1]}")" >> "$tmp"
        done
        chmod 600 "$tmp"   # whatever mode an older edgecell.env had
        mv -f "$tmp" "$env_file"
        trap - EXIT
    )
    local names=()
    for ((i = 0; i < ${#env_settings[@]}; i += 2)); do names+=("${env_settings[i]}"); done
    if [ "${#names[@]}" -gt 0 ]; then
        echo "Settings ${names[*]} written to $env_file (mode 600, read by the unit), not to the unit."
    fi
    if [ -n "$new_token" ]; then echo "Token for the live page and /classify, in $env_file: $new_token"; fi
}

if [ "$unit_only" = 1 ]; then
    write_unit
    write_env
    echo "Service file written (not enabled): $unit"
    exit 0
fi

if [ -z "$from" ]; then
    if [ -f "$here/../pyproject.toml" ] && grep -q '^name = "edgecell"' "$here/../pyproject.toml"; then
        from="$(cd "$here/.." && pwd)"
    else
        die "no edgecell source next to this script; pass --from with a wheel (python -m build --wheel makes one) or a checkout."
    fi
elif [ ! -e "$from" ]; then
    die "--from $from does not exist; pass a wheel file or an edgecell source folder."
fi

if [ "$dry_run" = 0 ]; then
    command -v "$python" >/dev/null || die "--python $python is not on PATH; install python3 or pass another interpreter."
    "$python" -c 'import venv, ensurepip' 2>/dev/null \
        || die "$python cannot make a virtual environment with pip; install it with: sudo apt install python3-venv"
    if [ "$runtime" = "tflite-runtime" ]; then
        version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
        case "$version" in 3.8|3.9|3.10|3.11) ;;
            *) die "tflite-runtime 2.14 has armv7l wheels for Python 3.8 to 3.11, and $python is $version; use Raspberry Pi OS Bookworm (Python 3.11)." 3 ;;
        esac
    fi
fi

# ---- Debian packages -------------------------------------------------------------------------
apt_installed=()
missing=()
for package in "${debian_packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [ "${#missing[@]}" -gt 0 ] && [ "$no_deps" = 0 ]; then
    if [ "$apt" = 1 ]; then
        sudo=""
        [ "$(id -u)" = 0 ] || sudo="sudo"
        run $sudo apt-get install -y "${missing[@]}"
        apt_installed=("${missing[@]}")
    elif [ "$dry_run" = 1 ]; then
        echo "(needs the Debian packages ${missing[*]}: sudo apt install ${missing[*]}, or --apt)"
    else
        die "this board needs the Debian packages ${missing[*]}; install them with: sudo apt install ${missing[*]} (or rerun with --apt)."
    fi
fi

# ---- the virtual environment -----------------------------------------------------------------
created_venv=0
if [ -f "$venv/pyvenv.cfg" ]; then
    if [ "$system_site" = 1 ] && ! grep -qi '^include-system-site-packages *= *true' "$venv/pyvenv.cfg"; then
        die "$venv was made without --system-site-packages, which $([ "$picamera" = 1 ] && echo --picamera || echo "$machine") needs; remove it (rm -rf $venv) or choose another --prefix."
    fi
    echo "Reusing the virtual environment $venv"
else
    venv_args=()
    [ "$system_site" = 1 ] && venv_args+=(--system-site-packages)
    run mkdir -p "$prefix"
    run "$python" -m venv "${venv_args[@]}" "$venv"
    created_venv=1
fi
pip=("$venv/bin/python" -m pip install --disable-pip-version-check)

if [ "$no_deps" = 1 ]; then
    run "${pip[@]}" --no-deps "$from"
    runtime="none (--no-deps)"
elif [ "$pip_no_deps" = 1 ]; then
    run "${pip[@]}" --no-deps "$from"
    run "${pip[@]}" "${pip_extra[@]}"
else
    run "${pip[@]}" "$from" "${pip_extra[@]}"
fi
run mkdir -p "$prefix/results" "$prefix/outbox" "$prefix/collected"
# The only folders the service may write to (results, MQTT messages kept while the broker is
# away, and the frames --collect keeps); the rest of the prefix it reads.
if [ "$(id -u)" = 0 ]; then run chown "$user:" "$prefix/results" "$prefix/outbox" "$prefix/collected"; fi
if [ "$dry_run" = 0 ]; then
    demo_model="$("$venv/bin/python" -c 'from edgecell.models import DEMO_MODEL; print(DEMO_MODEL)')"
    [ -n "$model" ] || model="$demo_model"
    write_unit
    write_env
fi

# ---- what was done, and how to undo it --------------------------------------------------------
if [ "$dry_run" = 1 ]; then
    echo "Dry run: nothing was changed."
    exit 0
fi
version="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("edgecell"))')"
echo
echo "Installed edgecell $version for $machine with runtime $runtime into $venv"
if [ "$system_site" = 1 ]; then
    echo "  (the venv sees the system's site packages${debian_packages[*]:+, for ${debian_packages[*]}})"
fi
cat <<EOF
Try it on the shipped demo model and images:
  $venv/bin/edgecell infer $(dirname "$demo_model")/images --model $demo_model
Service file written (not enabled): $unit
  to run it at boot: sudo install -m 644 $unit /etc/systemd/system/ && sudo systemctl daemon-reload && sudo systemctl enable --now edgecell-infer
  its log: journalctl -u edgecell-infer -f      its results: $prefix/results/

To undo:
EOF
echo "  sudo systemctl disable --now edgecell-infer; sudo rm -f /etc/systemd/system/edgecell-infer.service   # if you enabled it"
if [ "$created_venv" = 1 ]; then
    echo "  rm -rf $venv $unit $env_file $prefix/results $prefix/outbox $prefix/collected   # the results folder too"
else
    echo "  rm -rf $venv $unit $env_file $prefix/results $prefix/outbox $prefix/collected   # the venv existed before: this removes it whole"
fi
if [ "${#apt_installed[@]}" -gt 0 ]; then
    echo "  sudo apt-get remove ${apt_installed[*]}"
fi
if [ "$created_user" = 1 ]; then
    echo "  sudo userdel $user"
fi
