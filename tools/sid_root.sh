#!/usr/bin/env bash
# Python 3.14 and 3.15 from Debian's unstable suite ("sid"), in a root of their own under
# build/sid-root (built once with debootstrap, about a minute; reused after). Needs root.
#     tools/sid_root.sh build                 build the root if it is not there yet
#     tools/sid_root.sh run CMD [ARG...]      run CMD inside it, in /course (a fresh copy of
#                                             this checkout), e.g. run python3.15 -V
# While CMD runs, /proc, /dev and /dev/shm are mounted inside the root; they are unmounted on
# every way out (end, failure, Ctrl-C, kill), and `make clean` goes through tools/safe_rm.sh,
# which refuses to delete a folder with anything still mounted in it.
# Inside, COURSE_SID_ROOT=1 is set: the tests that need the machine itself (its cgroups under
# /sys, never mounted here) know they run in the root and leave it to `make test`.
# The mirror is the one this machine's apt already uses (MIRROR=... to choose another).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
root="${SID_ROOT:-$repo/build/sid-root}"
packages=python3.14,python3.14-venv,python3.15,python3.15-venv
ca_bundle=/etc/ssl/certs/ca-certificates.crt

die() { echo "sid_root: $*" >&2; exit 1; }

mirror() {
    # The first Debian archive (not -security) in the apt sources, deb822 or one-line style.
    local uri
    uri="$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {for (i = 2; i <= NF; i++) print $i}'
           cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
               awk '$1 == "deb" {for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) {print $i; break}}')"
    uri="$(printf '%s\n' "$uri" | grep -E '^https?://.*/debian/?$' | head -n 1 || true)"
    [ -n "$uri" ] || die "no Debian mirror found in /etc/apt/sources.list*; set MIRROR=http://.../debian"
    echo "$uri"
}

build() {
    [ -f "$root/.course-root-ok" ] && return 0
    [ "$(id -u)" = 0 ] || die "building the root needs root (debootstrap, chroot)"
    command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install -y debootstrap"
    local m="${MIRROR:-$(mirror)}" tmp="$root.partial"
    "$repo/tools/safe_rm.sh" "$tmp"
    mkdir -p "$(dirname "$root")"
    echo "sid_root: debootstrap sid from $m into $root"
    debootstrap --variant=minbase --include="$packages" sid "$tmp" "$m" >"$root.log" 2>&1 || {
        tail -n 20 "$root.log" >&2; "$repo/tools/safe_rm.sh" "$tmp"; die "debootstrap failed (log: $root.log)"; }
    "$repo/tools/safe_rm.sh" "$root"
    mv "$tmp" "$root"
    chroot "$root" /bin/sh -c 'python3.14 -V && python3.15 -V' >"$root/.course-root-ok"
    cat "$root/.course-root-ok"
}

unmount_all() {
    local m p
    # Anything still running inside the root was started by this run: end it, by its pid.
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -KILL "${p#/proc/}" 2>/dev/null
    done
    for m in dev/shm dev proc; do
        if mountpoint -q "$root/$m"; then
            umount "$root/$m" 2>/dev/null || { sleep 1; umount "$root/$m" 2>/dev/null; } ||
                umount --lazy "$root/$m" || echo "sid_root: could not unmount $root/$m" >&2
        fi
    done
}

run() {
    build
    exec 9>"$root.lock"
    flock 9 # one run at a time mounts and copies into the root
    trap unmount_all EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
    mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
    mountpoint -q "$root/dev" || mount --bind /dev "$root/dev"
    mountpoint -q "$root/dev/shm" || mount --bind /dev/shm "$root/dev/shm"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    mkdir -p "$root/etc/ssl/certs" "$root/venvs"
    cp "$ca_bundle" "$root/etc/ssl/certs/course-ca.pem"
    # A fresh copy of this checkout (what is on disk, without venvs, builds and git).
    "$repo/tools/safe_rm.sh" "$root/course"
    mkdir "$root/course"
    tar -C "$repo" --exclude=./build --exclude=./.venv --exclude=./.git --exclude=__pycache__ \
        --exclude=.pytest_cache --exclude=.ruff_cache --exclude='*.egg-info' -cf - . |
        tar -C "$root/course" -xf -
    local status=0
    # A command a script starts in the background gets SIGINT and SIGQUIT ignored, unless job
    # control is on; Python then never raises KeyboardInterrupt, and the tests of what an
    # interrupt does (the kernel's Stop button) cannot pass. So the job runs with job control
    # (its own process group, SIGINT as a learner's Python has it); our INT trap still ends it.
    set -m
    chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb CI="${CI:-}" COURSE_SID_ROOT=1 \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        PIP_CERT=/etc/ssl/certs/course-ca.pem SSL_CERT_FILE=/etc/ssl/certs/course-ca.pem \
        PIP_DISABLE_PIP_VERSION_CHECK=1 JUPYTER_PREFER_ENV_PATH=1 \
        /bin/sh -c 'cd /course && exec "$@"' sh "$@" &
    set +m
    # Waiting in the background lets a TERM or HUP sent to this script run its trap at once
    # (bash runs traps only between commands); what is left in the root is ended there.
    wait "$!" || status=$?
    return "$status"
}

case "${1:-}" in
    build) build ;;
    run) shift; [ $# -gt 0 ] || die "run what? e.g. tools/sid_root.sh run python3.15 -V"; run "$@" ;;
    *) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
