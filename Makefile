# Two commands: `make run` (install, migrate, demo data, serve) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
export FLASK_APP := wsgi:app

.PHONY: run test lint audit translations bytecode extract-messages serve install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d translations --statistics

# the app's own bytecode, written once (pip does it for the libraries): where Python may not
# write it (PYTHONDONTWRITEBYTECODE, a read-only release folder) every process would compile
# some 120 modules from source at start, about a fifth of a second of CPU
APP_PACKAGES := core admin kiosk survey public_site wsgi.py
bytecode: $(VENV)/.installed
	$(BIN)/python -m compileall -q $(APP_PACKAGES)

run: install translations bytecode
	SIPAS_ENV=$${SIPAS_ENV:-development} $(BIN)/flask db upgrade
	SIPAS_ENV=$${SIPAS_ENV:-development} $(BIN)/flask demo-data --if-empty
	SIPAS_ENV=$${SIPAS_ENV:-development} $(BIN)/flask run --host 127.0.0.1 --port $(PORT)

lint: install-dev
	$(BIN)/ruff check .

AXE := tests/browser/node_modules/axe-core/axe.min.js
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# two pytest-xdist workers (PYTEST_WORKERS=0 runs in one process); see tests/conftest.py
PYTEST_WORKERS ?= 2
test: install-dev translations bytecode lint $(AXE)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# Known-vulnerable pins in requirements.txt fail this target. It needs PyPI's JSON API
# (https://pypi.org/pypi/<name>/<version>/json) for the advisories; --strict makes it FAIL,
# not pass silently, when a dependency cannot be looked up (e.g. no network, or a registry
# mirror without that API) -- "Dependency not found on PyPI" then means "not audited".
audit: install-dev
	@$(BIN)/pip-audit --strict --progress-spinner off -r requirements.txt || { \
	  echo "make audit FAILED: a pin above has a known vulnerability, or the advisory data" \
	       "could not be fetched (\"Dependency not found on PyPI\" = not audited, e.g." \
	       "no access to PyPI's JSON API from this machine)." >&2; exit 1; }

extract-messages: install-dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) instance/*.sqlite3*
