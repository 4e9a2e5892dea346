# brandbot: `make run` starts the demo; `make test` runs the whole suite.
# Both set up everything they need on a fresh Debian/Ubuntu machine with Python 3.11+.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Every install takes its versions from this lock (pins for Python 3.11 on linux x86_64); `make lock` remakes it.
LOCK   := requirements/lock.txt
EXTRAS := dev,embedded

.PHONY: run test lint install lock train migrate doctor worker reset-demo bench clean help

help:
	@echo "make run    - install, migrate, train the NLU if needed, start on http://127.0.0.1:8000"
	@echo "make test   - install, check test services (Redis, PostgreSQL, Chromium), run the suite"
	@echo "make doctor - check config, stores, NLU and channels"
	@echo "make reset-demo - put the demo airline's bookings back as seeded (undo seat changes)"
	@echo "make lock   - re-pin $(LOCK) from pyproject.toml (LOCK_ARGS=--upgrade for newer versions)"

$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "brandbot needs Python >= 3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e '.[$(EXTRAS)]'
	touch $(STAMP)

install: $(STAMP)

# uv resolves from PyPI; pins already in $(LOCK) are kept unless LOCK_ARGS says otherwise
# (--upgrade, or --upgrade-package NAME).
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet 'uv>=0.9,<1'
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev --extra embedded --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 --no-emit-index-url $(LOCK_ARGS) -o $(LOCK)

migrate: install
	$(BIN)/brandbot db upgrade

train: install
	$(BIN)/brandbot nlu train

run: migrate train
	$(BIN)/brandbot serve

worker: install
	$(BIN)/brandbot worker

doctor: install
	$(BIN)/brandbot doctor

# the demo airline's bookings (dialogue.actions_options.database) back as seeded
reset-demo: install
	$(BIN)/brandbot demo reset

# ruff (lint, format) and mypy, configured in pyproject.toml; `make test` runs it first
lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

test: install lint
	bash .ci/test-deps.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache
