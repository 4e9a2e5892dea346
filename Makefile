# brandbot: `make run` starts the demo; `make test` runs the whole suite.
# Both set up everything they need on a fresh Debian/Ubuntu machine with Python 3.11+.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test install train migrate doctor worker bench clean help

help:
	@echo "make run    - install, migrate, train the NLU if needed, start on http://127.0.0.1:8000"
	@echo "make test   - install, check test services (Redis, PostgreSQL, Chromium), run the suite"
	@echo "make doctor - check config, stores, NLU and channels"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "brandbot needs Python >= 3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

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

test: install
	bash .ci/test-deps.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache
