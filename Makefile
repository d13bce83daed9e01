# The course's two commands (see README.md):
#   make lab    open the course in JupyterLab
#   make test   lint, test the helpers, run every notebook, check them in a headless browser
# Both need only Python 3.10+ and make: the first run creates .venv and installs into it.

PYTHON ?= python3
VENV ?= .venv
LAB_ARGS ?=
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-test
# The versions CI tested (tools/pins.py): used when the venv's Python is the pinned one.
PINS := binder/constraints.txt
PIN_ARGS = $$($(BIN)/python tools/pins.py pip-args)
BENCH_STAMP := $(VENV)/.installed-bench
# JupyterLab refuses to run as root unless told to.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
# Prefer the venv's kernels and settings over any in ~/.local/share/jupyter.
export JUPYTER_PREFER_ENV_PATH := 1

.PHONY: lab test lint test-package test-notebooks test-browser test-spawn test-hub test-pythons bench reference-pictures refresh-pins links venv clean

lab: $(STAMP)
	$(BIN)/jupyter lab $(ROOT_FLAG) notebooks/00_start_here.ipynb $(LAB_ARGS)

test: lint test-package test-notebooks test-spawn test-browser test-hub

lint: $(STAMP)
	$(BIN)/ruff check helpers tests notebooks tools hub

# The helpers' and the project's tests (pytest's testpaths, without the browser).
test-package: $(STAMP)
	$(BIN)/python -m pytest tests --ignore=tests/test_browser.py --durations=8

# Every notebook, run top to bottom in a fresh kernel; fails on any error.
# The notebooks are committed without outputs, so there is nothing to compare:
# --nbval-lax checks that each cell runs (and outputs of cells marked NBVAL_CHECK_OUTPUT).
test-notebooks: $(STAMP)
	$(BIN)/python -m pytest --nbval-lax --nbval-cell-timeout=300 \
		--ignore=notebooks/solutions notebooks

# The notebooks again, with spawn as the default start method, as on macOS and Windows
# (tests/spawn_site/sitecustomize.py), and with the network cut off (tools/offline.sh):
# after the first install nothing may need it. The time budget is held by test-notebooks.
test-spawn: $(STAMP)
	PYTHONPATH=$(CURDIR)/tests/spawn_site COURSE_TIME_BUDGET=off tools/offline.sh \
		$(BIN)/python -m pytest --nbval-lax --nbval-cell-timeout=300 -p no:cacheprovider \
		--ignore=notebooks/solutions tests/spawn_site/kernel_check.ipynb notebooks

test-browser: $(STAMP)
	$(BIN)/python -m pytest tests/test_browser.py

# A classroom JupyterHub on loopback: three learners at once in Chromium (tests/test_hub.py).
# configurable-http-proxy comes from npm (5.2.0: 5.3 needs Node 22); without npm, the test
# says what is missing.
CHP := build/hub-npm/node_modules/.bin/configurable-http-proxy
test-hub: $(STAMP)
	@test -x $(CHP) || ! command -v npm >/dev/null || \
		npm install --prefix build/hub-npm --no-audit --no-fund configurable-http-proxy@5.2.0
	$(BIN)/python -m pytest -m hub tests/test_hub.py --durations=3

# The package tests and every notebook on each Python the course names: 3.10-3.13 from pyenv,
# 3.14 and 3.15 from Debian sid in build/sid-root (built on first use with debootstrap; needs
# root). Not part of `make test`; CI runs it. PYTHONS="3.14 3.15" or PARTS=notebooks choose.
test-pythons:
	tools/pythons.sh

# Benchmarks are run on demand only: tests marked `bench` (in tests/bench_*.py).
bench: $(BENCH_STAMP)
	$(BIN)/python -m pytest -m bench -s --timeout=3600 tests

# The instructor's reference pictures (docs/reference/): real runs; run it on a quiet machine.
reference-pictures: $(STAMP)
	$(BIN)/python tools/reference_pictures.py --out docs/reference

# Move the pins to the newest versions pyproject.toml allows; then `make test` and commit.
refresh-pins: $(STAMP)
	$(BIN)/python -m pip install --upgrade --upgrade-strategy eager -e '.[test]'
	$(BIN)/python tools/pins.py write

# The README's Binder badge, from pyproject.toml's [project.urls] Repository.
links:
	$(PYTHON) tools/links.py --write

venv: $(STAMP)

$(STAMP): pyproject.toml $(PINS)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
		{ echo "Python 3.10 or newer is needed; try: make PYTHON=python3.12 ..."; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || \
		{ rm -rf $(VENV); \
		  echo "Could not create $(VENV). On Debian/Ubuntu: sudo apt install python3-venv"; \
		  exit 1; }
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[test]' $(PIN_ARGS)
	touch $@

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install -e '.[test,bench]' $(PIN_ARGS)
	touch $@

# tools/safe_rm.sh unmounts what a chroot left mounted under build/ first, and refuses if it
# cannot: a /dev still bound in build/sid-root must never be deleted with it.
clean:
	tools/safe_rm.sh $(VENV) build *.egg-info
