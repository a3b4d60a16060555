# Crashcart — the two commands a fresh machine needs are `make all` and `make test`.
.PHONY: all setup up down status lint test report clean

PY := .venv/bin/python
PYTEST := .venv/bin/pytest

## all: set up the machine, then `crashcart run`: preflight, platform up (or reused), every
## layer in order, the Allure report (allure-report/index.html, history in allure-history/)
RUN_ARGS ?=
all: setup
	.venv/bin/crashcart run $(RUN_ARGS)

## setup: system packages, PostgreSQL/RabbitMQ, virtualenv, Allure generator (idempotent)
setup:
	bash .ci/setup.sh

up:
	.venv/bin/crashcart up

down:
	.venv/bin/crashcart down

status:
	.venv/bin/crashcart status

## lint: ruff and mypy over the whole tree (CI runs it before the tests)
lint: setup
	.venv/bin/ruff check .
	.venv/bin/mypy

## test: the default test run (what CI runs); brings the platform up and down itself
test: setup
	$(PYTEST) suites --alluredir=allure-results --clean-alluredir

## report: rebuild the Allure report from allure-results/ (categories, history, environment)
report:
	.venv/bin/crashcart run --report-only

clean: down
	rm -rf allure-results allure-report .crashcart .pytest_cache
