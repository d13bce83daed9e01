#!/bin/sh
# Delete folders that may hold a chroot (build/sid-root, tools/sid_root.sh) without ever walking
# into something mounted inside them: a bound /dev under build/ would make `rm -rf build` delete
# the machine's devices. For each PATH: unmount every mount point at or under it (deepest
# first); if one cannot be unmounted, refuse and delete nothing. Then `rm -rf --one-file-system`.
#     tools/safe_rm.sh build .venv
status=0
for path in "$@"; do
    [ -e "$path" ] || [ -L "$path" ] || continue
    real="$(realpath -e -- "$path")" || { status=1; continue; }
    mounts_under() {
        # /proc/self/mountinfo, field 5: the mount point, with spaces etc. as octal escapes.
        awk -v p="$real" '{ m = $5; gsub(/\\040/, " ", m); gsub(/\\011/, "\t", m)
            if (m == p || index(m, p "/") == 1) print m }' /proc/self/mountinfo | sort -r
    }
    mounts_under | while IFS= read -r m; do
        umount -- "$m" 2>/dev/null || echo "safe_rm: cannot unmount $m" >&2
    done
    left="$(mounts_under)"
    if [ -n "$left" ]; then
        echo "safe_rm: refusing to delete $path: still mounted inside it:" >&2
        echo "$left" | sed 's/^/    /' >&2
        echo "safe_rm: stop what uses them (a chroot shell? a kernel?) and run it again" >&2
        status=1
        continue
    fi
    rm -rf --one-file-system -- "$path" || status=1
done
exit "$status"
