# sel-time: two commands set everything up on a fresh machine with only Python.
#   make demo   virtualenv, install, migrate SQLite under instance/, load the demo, plan,
#               publish, serve on http://127.0.0.1:5000
#               (the first plan is solved by `sel-time plan --here`, in its own process, before
#               the worker starts: nothing is left running if a step before the server fails)
#   make test   the test suite on SQLite, without the tests marked slow (browser journeys, real
#               processes killed mid-run, the API fuzz): those run in `make test-slow`, which CI
#               runs after the PostgreSQL run

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
DEMO_DB ?= $(CURDIR)/instance/demo.sqlite
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=
# The demo runs with development settings (a random key kept in instance/secret_key, plain-http
# cookies); everything else, gunicorn and every sel-time command, defaults to production.
DEMO_ENV = DATABASE_URL=sqlite:///$(DEMO_DB) SEL_TIME_ENV=development

export FLASK_APP = wsgi

.PHONY: a11y-full demo test test-slow test-postgres venv serve bench clean js sso browser audit lint worker

venv: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,audit,lint]'
	touch $@

# Node is only for the cross-client calendar tests (Mozilla's ical.js parses our feeds).
# ... and for axe-core, which the accessibility sweep injects into every page (tests/web/a11y).
js: tests/feeds/js/node_modules/.installed tests/web/a11y/node_modules/.installed

tests/web/a11y/node_modules/.installed: tests/web/a11y/package.json tests/web/a11y/package-lock.json
	npm ci --prefix tests/web/a11y --no-audit --no-fund --loglevel=error
	touch $@

tests/feeds/js/node_modules/.installed: tests/feeds/js/package.json tests/feeds/js/package-lock.json
	npm ci --prefix tests/feeds/js --no-audit --no-fund --loglevel=error
	touch $@

# Node also runs a real OpenID Connect provider (panva's oidc-provider 8, which supports Node 20)
# on loopback for the single sign-on tests (tests/sso).
sso: tests/sso/provider/node_modules/.installed

tests/sso/provider/node_modules/.installed: tests/sso/provider/package.json tests/sso/provider/package-lock.json
	npm ci --prefix tests/sso/provider --no-audit --no-fund --loglevel=error
	touch $@

# Browser tests drive Debian's Chromium with Playwright (no browser download).
CHROMIUM ?= /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || { echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

demo: venv
	mkdir -p instance
	rm -f $(DEMO_DB)
	$(DEMO_ENV) $(BIN)/sel-time db upgrade
	$(DEMO_ENV) $(BIN)/sel-time demo
	$(DEMO_ENV) $(BIN)/sel-time plan --here --weeks 12 --time-limit 60 --publish
	$(DEMO_ENV) $(BIN)/sel-time export-ics --out instance/feeds
	@echo "sel-time is serving the demo on http://127.0.0.1:5000 with a worker and the scheduler (Ctrl-C stops all three)"
	$(DEMO_ENV) bash -c 'trap "kill \$$W \$$S 2>/dev/null" EXIT; \
	  $(BIN)/sel-time worker & W=$$!; $(BIN)/sel-time scheduler & S=$$!; \
	  $(BIN)/sel-time run --host 127.0.0.1 --port 5000'

# Production-like: web, worker and scheduler as separate commands (see docs/scaling.md).
worker: venv
	$(DEMO_ENV) $(BIN)/sel-time worker

serve: venv
	$(DEMO_ENV) $(BIN)/sel-time run --host 127.0.0.1 --port 5000

test: venv js sso browser
	$(BIN)/python -m pytest -q -m "not slow" $(PYTEST_ARGS)

# The tests marked slow (each takes more than about 5 s: Chromium journeys, the accessibility
# sweep of every page each role reaches at both widths, processes killed mid-run, the demo-sized
# refresh and plan, the API fuzz), on SQLite; CI runs them after the PostgreSQL run.
test-slow: venv js sso browser
	SEL_TIME_A11Y_FULL=1 $(BIN)/python -m pytest -q -m slow $(PYTEST_ARGS)

# The PostgreSQL run is the whole suite, slow tests too (browser journeys skip themselves there),
# and also runs the queue's tests against Redis (db 1; 2 and 3 are spare).
REDIS_TEST_URL ?= redis://127.0.0.1:6379/1
test-postgres: venv js sso browser
	DATABASE_URL=$(PG_URL) SEL_TIME_TEST_REDIS=$(REDIS_TEST_URL) $(BIN)/python -m pytest -q $(PYTEST_ARGS)

# The longest sweep on its own: axe-core on every page each role can reach, at 1280 and 390 px
# (make test-slow runs it with the other slow tests).
a11y-full: venv js browser
	SEL_TIME_A11Y_FULL=1 $(BIN)/python -m pytest -q tests/web/test_accessibility.py

# Gates that keep the house in order (run by .ci/run before the tests): ruff over all the code
# (Alembic's generated revisions aside), mypy over the app and the solver (strict on the
# solver), and the import contracts in .importlinter.
LINTED = sel_time solver tests bench config.py wsgi.py gunicorn.conf.py
lint: venv
	$(BIN)/ruff check $(LINTED)
	$(BIN)/mypy sel_time solver
	$(BIN)/lint-imports

# Security gates: bandit (no high-severity finding in sel_time/ or solver/) and pip-audit (no
# dependency with a known vulnerability). pip-audit needs its vulnerability service; where that
# cannot be reached it audits nothing, and .ci/audit says so in words rather than passing quietly.
audit: venv
	$(BIN)/bandit -q -r sel_time solver --severity-level high
	BIN=$(BIN) bash .ci/audit

bench: venv
	$(BIN)/python -m bench.solver_bench --size S
	$(BIN)/python -m bench.solver_bench --size M
	$(BIN)/python -m bench.queue_bench

clean:
	rm -rf $(VENV) instance/demo.sqlite tests/feeds/js/node_modules tests/sso/provider/node_modules
