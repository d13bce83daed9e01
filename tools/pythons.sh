#!/usr/bin/env bash
# The package tests and every notebook (nbval), on every Python the course names:
# 3.10-3.13 from pyenv (`pyenv root`), 3.14 and 3.15 from Debian sid in a root of their own
# (tools/sid_root.sh; needs root and debootstrap). `make test-pythons` runs it.
#     tools/pythons.sh                       every Python, both parts
#     PYTHONS="3.14 3.15" PARTS=notebooks tools/pythons.sh
# Each Python gets a venv, kept until pyproject.toml changes: build/pythons/X.Y for pyenv's,
# /venvs/X.Y inside the root for Debian's (build/sid-root/venvs/X.Y). The course is installed
# into it, editable, from this checkout (inside the root: from its fresh copy, /course).
# Each part's time is printed, and the summary at the end: `TIMES` lines, read by .ci/run.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
PYTHONS="${PYTHONS:-3.10 3.11 3.12 3.13 3.14 3.15}"
PARTS="${PARTS:-package notebooks}"

# --here PYTHON VENV PARTS: make the venv (unless cached) and run the parts, in this system.
if [ "${1:-}" = --here ]; then
    python="$2" venv="$3" PARTS="$4"
    stamp="$("$python" -VV | tr -d '\n'; echo; cat pyproject.toml binder/constraints.txt | sha256sum)"
    if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.course-stamp" 2>/dev/null)" != "$stamp" ]; then
        tools/safe_rm.sh "$venv"
        "$python" -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --upgrade pip
        # shellcheck disable=SC2046 # pip-args is "" or "-c binder/constraints.txt"
        "$venv/bin/python" -m pip install --quiet -e '.[test]' $("$venv/bin/python" tools/pins.py pip-args)
        echo "$stamp" >"$venv/.course-stamp"
    fi
    "$venv/bin/python" -VV
    for part in $PARTS; do
        t0=$SECONDS
        case "$part" in
            venv) continue ;; # only make the venv (make bench uses it)
            package) "$venv/bin/python" -m pytest -p no:cacheprovider tests \
                         --ignore=tests/test_browser.py --durations=5 ;;
            # The classroom time budget (notebooks/conftest.py) is held by `make test`'s
            # test-notebooks, as in test-spawn; here the point is that every cell passes.
            notebooks) COURSE_TIME_BUDGET=off "$venv/bin/python" -m pytest -p no:cacheprovider --nbval-lax \
                           --nbval-cell-timeout=300 --ignore=notebooks/solutions notebooks ;;
            *) echo "pythons: unknown part $part (venv, package, notebooks)" >&2; exit 2 ;;
        esac
        echo "TIME $("$venv/bin/python" -c 'import platform; print(platform.python_version())') $part $((SECONDS - t0)) s"
    done
    exit 0
fi

pyenv_python() { # the newest pyenv-installed X.Y.Z for X.Y
    local pyroot
    pyroot="${PYENV_ROOT:-$(pyenv root 2>/dev/null || true)}"
    [ -n "$pyroot" ] || { echo "pythons: pyenv not found (PYENV_ROOT or pyenv root)" >&2; return 1; }
    ls -d "$pyroot"/versions/"$1".*/bin/python 2>/dev/null | grep -E "/$1\.[0-9]+/bin/python$" |
        sort -V | tail -n 1 | grep . ||
        { echo "pythons: no Python $1 in $pyroot/versions (pyenv install $1)" >&2; return 1; }
}

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for version in $PYTHONS; do
    printf '\n---------- Python %s: %s ----------\n' "$version" "$PARTS"
    t0=$SECONDS
    case "$version" in
        3.14|3.15) tools/sid_root.sh run tools/pythons.sh --here "/usr/bin/python$version" "/venvs/$version" "$PARTS" ;;
        *) tools/pythons.sh --here "$(pyenv_python "$version")" "build/pythons/$version" "$PARTS" ;;
    esac 2>&1 | tee -a "$log"
    echo "TIME $version all $((SECONDS - t0)) s" | tee -a "$log"
done
echo
echo "Summary (seconds; 'all' includes making the venvs and, for 3.14/3.15, the root):"
grep '^TIME ' "$log" | sed 's/^TIME /TIMES /'
