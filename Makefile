# Two commands on a fresh machine: `make run` and `make test` (README).
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install run run-scaled test lint messages

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

install: $(UV)
	$(UV) sync --frozen --python $(PYTHON) --quiet

run: install
	$(VENV)/bin/deskhand migrate --no-input
	$(VENV)/bin/deskhand serve

# The scale-out form on this machine (docs/deploy.md): 2 web processes, 2 workers, the scheduler
# and 2 SMTP listeners from the Procfile, on PostgreSQL and Redis (local ones unless set).
run-scaled: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/deskhand
run-scaled: export DESKHAND_TASKS_URL ?= redis://127.0.0.1:6379/0
run-scaled: export DESKHAND_REDIS_URL ?= redis://127.0.0.1:6379/1
run-scaled: install
	$(VENV)/bin/deskhand createdb
	$(VENV)/bin/deskhand migrate --no-input
	$(VENV)/bin/honcho -f Procfile start -c web=1,worker=2,scheduler=1,smtpd=2

lint: install
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check deskhand bench
	$(VENV)/bin/mypy deskhand

test: lint
	$(VENV)/bin/pytest

# Translations (docs/decisions.md, "Translations"): refresh the catalogues from the code and
# templates, translate in locale/<code>/LC_MESSAGES/django.po, then run this again to compile
# the .mo files, which are committed (a test fails while a .mo and its .po disagree). Needs gettext.
messages: install
	$(VENV)/bin/deskhand makemessages -l de -l hr -l fr -l es -l nb --add-location=file --no-obsolete \
		-i '.venv/*' -i '.tools/*' -i 'var/*' -i 'bench/*' -i 'docs/*' -i '*/tests/*'
	for po in locale/*/LC_MESSAGES/django.po; do msgfmt --check -o "$${po%.po}.mo" "$$po" || exit 1; done
