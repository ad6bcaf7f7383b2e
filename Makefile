# Two commands on a fresh machine: `make run` and `make test` (README).
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install run test lint

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

install: $(UV)
	$(UV) sync --frozen --python $(PYTHON) --quiet

run: install
	$(VENV)/bin/deskhand migrate --no-input
	$(VENV)/bin/deskhand serve

lint: install
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check deskhand bench
	$(VENV)/bin/mypy deskhand

test: lint
	$(VENV)/bin/pytest
