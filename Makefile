# Switchboard: `make run` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install chromium run test migrate demo messages clean

help:
	@echo "make run    set up and serve on http://$(HOST):$(PORT) with the demo organisation"
	@echo "make test   set up and run the whole suite (embedded defaults, then PostgreSQL and Redis)"
	@echo "make messages  update and compile the translation catalogues"

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(BIN)/.installed

migrate: install
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

test: install chromium
	$(BIN)/python scripts/run_tests.py $(ARGS)

messages: install
	$(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=staticfiles --ignore=bench
	$(BIN)/python manage.py compilemessages -l zh_Hans --ignore=.venv

clean:
	rm -rf $(VENV) staticfiles
