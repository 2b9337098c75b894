# The two commands: `make run` starts the chat on http://127.0.0.1:7860, `make test` runs every test.
# Both create .venv and install everything on first use.

VENV ?= .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: run test build bench

$(STAMP): pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	# The CPU wheel; an unpinned torch would pull a multi-GB CUDA build.
	$(PYTHON) -m pip install --quiet torch==2.13.0
	# The ray extra too, so the tests of `build --ray` (local mode, two-node cluster) run.
	$(PYTHON) -m pip install --quiet -e '.[test,ray]'
	touch $(STAMP)

/usr/bin/chromium:
	$(SUDO) apt-get update -q
	$(SUDO) apt-get install -y -q chromium chromium-driver

run: $(STAMP)
	$(PYTHON) app.py

build: $(STAMP)
	$(PYTHON) -m assistant build

# npm installs axe-core (the accessibility checker of the browser tests) into build/axe on first use.
/usr/bin/npm:
	$(SUDO) apt-get update -q
	$(SUDO) apt-get install -y -q npm

test: $(STAMP) /usr/bin/chromium /usr/bin/npm
	$(PYTHON) -m pytest -q

bench: $(STAMP)
	$(PYTHON) bench/build_conflict_news.py
