#!/usr/bin/env bash
# Prove the board install without a board: build Debian Bookworm roots for arm64 (Pi 4/5 on 64-bit
# Raspberry Pi OS) and armhf (32-bit), run device/install.sh inside each under qemu-user with
# edgecell's wheel, classify the shipped demo images there, and compare labels, scores and raw
# output bytes with this machine's.
#
#   sudo apt-get install qemu-user-static binfmt-support mmdebstrap arch-test
#   bash scripts/emulate_pi.sh [--roots DIR] [--arch arm64|armhf|both] [--rebuild]
#
# Needs root (chroot, mounts), binfmt_misc, and the network to Debian's and PyPI's packages. Slow:
# each root takes ~5 minutes to build (kept under --roots and reused), each install and run a few
# minutes more under emulation. Far too slow for every CI run; the README records the last result.
# Roots live outside the repository (default /work/pi-roots); never commit them.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
roots="/work/pi-roots"
arches="arm64 armhf"
rebuild=0
while [ $# -gt 0 ]; do
    case "$1" in
        --roots) roots="$2"; shift 2 ;;
        --arch) arches="$2"; [ "$arches" = both ] && arches="arm64 armhf"; shift 2 ;;
        --rebuild) rebuild=1; shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "emulate_pi.sh: unknown option $1; see --help." >&2; exit 2 ;;
    esac
done

say() { echo "[emulate_pi $(date -u +%H:%M:%S)] $*"; }
die() { echo "emulate_pi.sh: $1" >&2; exit 2; }

[ "$(id -u)" = 0 ] || die "needs root for chroot and mounts; run it with sudo."
for tool in mmdebstrap arch-test update-binfmts; do
    command -v "$tool" >/dev/null || die "$tool is missing; install with: apt-get install qemu-user-static binfmt-support mmdebstrap arch-test"
done
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || die "binfmt_misc cannot be mounted here; qemu-user cannot run foreign binaries."
fi
mkdir -p "$roots"
work="$roots/run"
mkdir -p "$work"

# ---- this machine's answers and the wheel ------------------------------------------------------
say "building the wheel and classifying the demo images on $(uname -m)"
# From a copy of the files git knows (tracked or not ignored): a build/ folder left in the checkout
# by an earlier build would otherwise put files deleted since into the wheel.
rm -rf "$work/dist" "$work/src"
mkdir -p "$work/src"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard \
    | tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$work/src"
(cd "$work/src" && python3 -m build --wheel --outdir "$work/dist" >"$work/build.log" 2>&1) \
    || die "python -m build --wheel failed; see $work/build.log"
wheel="$(ls "$work"/dist/edgecell-*.whl)"
python3 "$repo/scripts/pi_check.py" classify "$work/host.json"

# ---- roots -------------------------------------------------------------------------------------
declare -A include=(
    [arm64]="python3,python3-venv,python3-pip,ca-certificates"
    # PyPI has no armv7l wheels of numpy or OpenCV: Debian's, as on Raspberry Pi OS.
    [armhf]="python3,python3-venv,python3-pip,ca-certificates,python3-numpy,python3-opencv"
)
declare -A qemu_cpu=([arm64]="cortex-a72" [armhf]="cortex-a7")  # Pi 4; Pi 2 / 32-bit minimum
declare -A binfmt=([arm64]="qemu-aarch64" [armhf]="qemu-arm")

build_root() {
    local arch="$1" root="$roots/bookworm-$1"
    if [ "$rebuild" = 1 ]; then rm -rf "$root"; fi
    if [ -x "$root/usr/bin/python3" ]; then
        say "reusing $root"
        return
    fi
    rm -rf "$root"
    update-binfmts --enable "${binfmt[$arch]}" 2>/dev/null || true
    arch-test "$arch" >/dev/null || die "this machine cannot run $arch binaries (arch-test $arch failed)."
    say "building $root with mmdebstrap (about 5 minutes)"
    local started=$SECONDS
    # Bookworm and its updates; the security suite is left out because its mirror was mid-sync
    # when this was written, and nothing here depends on it.
    nice -n 10 mmdebstrap --arch="$arch" --variant=minbase --include="${include[$arch]}" bookworm "$root" \
        "deb http://deb.debian.org/debian bookworm main" \
        "deb http://deb.debian.org/debian bookworm-updates main" >"$roots/$arch.log" 2>&1 \
        || die "mmdebstrap for $arch failed; see $roots/$arch.log"
    say "$arch root built in $((SECONDS - started)) s"
}

cpuinfo() {  # /proc/cpuinfo of a Pi 4 (arm64) or a Pi 2 v1.1 (armhf, Cortex-A7)
    local i
    for i in 0 1 2 3; do
        if [ "$1" = arm64 ]; then
            printf 'processor\t: %s\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\n' "$i"
            printf 'CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3\n\n'
        else
            printf 'processor\t: %s\nmodel name\t: ARMv7 Processor rev 5 (v7l)\nBogoMIPS\t: 38.40\n' "$i"
            printf 'Features\t: half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt vfpd32 lpae evtstrm\n'
            printf 'CPU implementer\t: 0x41\nCPU architecture: 7\nCPU variant\t: 0x0\nCPU part\t: 0xc07\nCPU revision\t: 5\n\n'
        fi
    done
    if [ "$1" = arm64 ]; then
        printf 'Hardware\t: BCM2835\nRevision\t: c03111\nModel\t\t: Raspberry Pi 4 Model B Rev 1.1\n'
    else
        printf 'Hardware\t: BCM2835\nRevision\t: a01041\nModel\t\t: Raspberry Pi 2 Model B Rev 1.1\n'
    fi
}

in_root() {  # in_root ARCH COMMAND...: run inside the root as the board would, with a clean env
    local arch="$1"; shift
    chroot "$roots/bookworm-$arch" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin \
        LANG=C.UTF-8 QEMU_CPU="${qemu_cpu[$arch]}" PIP_CERT=/etc/ssl/certs/host-ca.crt \
        PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_DEFAULT_TIMEOUT=180 "$@"
}

run_arch() {
    local arch="$1" root="$roots/bookworm-$1" started=$SECONDS
    build_root "$arch"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/host-ca.crt"
    mkdir -p "$root/opt/kit"
    cp "$repo/device/install.sh" "$repo/device/edgecell-infer.service" "$repo/scripts/pi_check.py" "$wheel" "$root/opt/kit/"
    mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
    mountpoint -q "$root/sys" || mount -t sysfs sys "$root/sys"
    mountpoint -q "$root/dev" || mount --bind /dev "$root/dev"
    # qemu-user passes the host's /proc/cpuinfo through (an x86 one here), and the CPU probe
    # inside ai-edge-litert and tflite-runtime (pytorch/cpuinfo) crashes on it with SIGSEGV before
    # any model loads. A board shows its own: give the root the one its Pi shows.
    cpuinfo "$arch" >"$roots/cpuinfo-$arch"
    mount --bind "$roots/cpuinfo-$arch" "$root/proc/cpuinfo"
    mounted+=("$root/proc/cpuinfo" "$root/proc" "$root/sys" "$root/dev")

    rm -rf "$root/opt/edgecell"
    say "$arch: install.sh under QEMU_CPU=${qemu_cpu[$arch]}"
    local t0=$SECONDS
    in_root "$arch" bash /opt/kit/install.sh --prefix /opt/edgecell --apt \
        --from "/opt/kit/$(basename "$wheel")" >"$work/install-$arch.log" 2>&1 \
        || { tail -n 20 "$work/install-$arch.log"; die "install.sh failed on $arch; see $work/install-$arch.log"; }
    local install_s=$((SECONDS - t0))
    sed -n '/^Installed edgecell/,$p' "$work/install-$arch.log"

    say "$arch: classifying the demo images"
    t0=$SECONDS
    in_root "$arch" /opt/edgecell/venv/bin/python /opt/kit/pi_check.py classify /opt/kit/board.json
    local classify_s=$((SECONDS - t0))
    cp "$root/opt/kit/board.json" "$work/$arch.json"
    in_root "$arch" /opt/edgecell/venv/bin/pip list --format=freeze >"$work/pip-$arch.txt" 2>/dev/null || true

    local verdict=0
    python3 "$repo/scripts/pi_check.py" compare "$work/host.json" "$work/$arch.json" \
        --expected "$repo/models/demo/expected.json" || verdict=1

    if [ "$arch" = arm64 ]; then
        # What `install.sh --picamera` installs on 64-bit, less apt's python3-picamera2 (Raspberry
        # Pi's archive, not Debian's): the same wheel with numpy kept below 2.
        say "$arch: the --picamera requirements (numpy<2)"
        in_root "$arch" bash -c "rm -rf /opt/numpy1 && python3 -m venv --system-site-packages /opt/numpy1 \
            && /opt/numpy1/bin/pip install -q '/opt/kit/$(basename "$wheel")' 'numpy<2'" >"$work/install-$arch-numpy1.log" 2>&1 \
            || die "the numpy<2 install failed on $arch; see $work/install-$arch-numpy1.log"
        in_root "$arch" /opt/numpy1/bin/python /opt/kit/pi_check.py classify /opt/kit/board-numpy1.json
        cp "$root/opt/kit/board-numpy1.json" "$work/$arch-numpy1.json"
        python3 "$repo/scripts/pi_check.py" compare "$work/host.json" "$work/$arch-numpy1.json" \
            --expected "$repo/models/demo/expected.json" || verdict=1
    fi
    say "$arch: install ${install_s} s, classify ${classify_s} s, total $((SECONDS - started)) s"
    echo "$arch install_s=$install_s classify_s=$classify_s total_s=$((SECONDS - started)) match=$((1 - verdict))" >>"$work/summary.txt"
    return "$verdict"
}

mounted=()
unmount() { local m; for m in "${mounted[@]}"; do umount -l "$m" 2>/dev/null || true; done; }
trap unmount EXIT

: >"$work/summary.txt"
status=0
for arch in $arches; do
    run_arch "$arch" || status=1
done
say "done ($(date -u +%Y-%m-%dT%H:%MZ)); reports in $work: host.json, <arch>.json, pip-<arch>.txt, summary.txt"
cat "$work/summary.txt"
exit "$status"
