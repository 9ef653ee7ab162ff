# Switchboard: `make run` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install chromium nodejs run test migrate demo messages clean bench cluster

help:
	@echo "make run    set up and serve on http://$(HOST):$(PORT) with the demo organisation"
	@echo "make test   set up and run the whole suite (embedded defaults, then PostgreSQL and Redis)"
	@echo "make messages  update and compile the translation catalogues"
	@echo "make bench  run the load benchmark (PostgreSQL, Redis db 13) into bench/results/: sizes via"
	@echo "            BENCH_USERS BENCH_TEAM_SIZE BENCH_RATE BENCH_DURATION BENCH_FANOUT_USERS BENCH_REPEATS,"
	@echo "            BENCH_SCENARIOS, BENCH_PRESENCE=subscribe|v1, BENCH_DATABASE_URL, BENCH_REDIS_URL, ASGI_SERVER=daphne|uvicorn;"
	@echo "            search: BENCH_SEARCH_MESSAGES BENCH_SEARCH_USERS BENCH_SEARCHES BENCH_SEARCH_RATE BENCH_SEARCH_SEND_RATE BENCH_SEARCH_DURATION"
	@echo "make cluster  CLUSTER_WORKERS web workers from PORT, Celery worker and beat (needs DATABASE_URL, REDIS_URL)"

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(BIN)/.installed

# The settings only read the keys; make_keys makes those a checkout does not have yet.
migrate: install
	$(BIN)/python manage.py make_keys
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py seed_demo --if-empty

run: demo
	STATIC_MANIFEST=true $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo "Switchboard on http://$(HOST):$(PORT)/ (demo users: alice, bob, president, ... password switchboard-demo)"
	SECURE=$${SECURE:-false} $(BIN)/daphne --bind $(HOST) --port $(PORT) imsite.asgi:application

# The browser tests drive Debian's Chromium; nothing downloads a browser of its own.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The web client's modules are tested with Debian's Node.js (node --test), nothing from npm.
nodejs:
	@command -v node >/dev/null 2>&1 || { \
		echo "Installing Debian's nodejs for the web client's tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs >/dev/null; }

test: install chromium nodejs
	$(BIN)/python scripts/run_tests.py $(ARGS)

messages: install
	$(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=staticfiles --ignore=bench
	$(BIN)/python manage.py makemessages -d djangojs -l zh_Hans --ignore=.venv --ignore=staticfiles --ignore=bench --ignore='*/vendor/*' --ignore='*/tests/*'
	$(BIN)/python manage.py compilemessages -l zh_Hans --ignore=.venv

# The orchestration (database, workers, scenarios, chart) is bench/suite.py; it reads the
# BENCH_* variables, from the environment or from make's command line.
bench: install
	$(BIN)/python -m bench.suite

# Several web workers on consecutive ports from PORT, a Celery worker and Celery beat, as
# the Procfile says. They share state only through PostgreSQL and Redis, so both are required.
CLUSTER_WORKERS ?= 2
ASGI_SERVER ?= daphne
CLUSTER_WEB := $(if $(filter uvicorn,$(ASGI_SERVER)),web-uvicorn,web)
cluster: install
	$(if $(filter postgres%,$(DATABASE_URL)),,$(error make cluster needs PostgreSQL and Redis: set DATABASE_URL (postgres://) and REDIS_URL (redis://)))
	$(if $(filter redis%,$(REDIS_URL)),,$(error make cluster needs Redis, which its workers share: set REDIS_URL (redis://)))
	$(if $(filter daphne uvicorn,$(ASGI_SERVER)),,$(error ASGI_SERVER must be daphne or uvicorn))
	$(BIN)/python manage.py make_keys
	$(BIN)/python manage.py migrate --noinput
	STATIC_MANIFEST=true $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	mkdir -p var
	@echo "Switchboard: $(CLUSTER_WORKERS) $(ASGI_SERVER) workers on http://$(HOST):$(PORT)/ and up, Celery worker and beat"
	HOST=$(HOST) SECURE=$${SECURE:-false} $(BIN)/honcho start --port $(PORT) \
		--concurrency $(CLUSTER_WEB)=$(CLUSTER_WORKERS) $(CLUSTER_WEB) worker beat

clean:
	rm -rf $(VENV) staticfiles
