# Crashcart — the two commands a fresh machine needs are `make all` and `make test`.
.PHONY: all setup up down status lint test report clean

PY := .venv/bin/python
PYTEST := .venv/bin/pytest

## all: set up the machine, bring the platform up, run the full harness, build the Allure report
all: setup up
	-$(PYTEST) suites --alluredir=allure-results --clean-alluredir
	$(MAKE) report
	@echo "Allure report: allure-report/index.html (the platform is still up: make down)"

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

report:
	node_modules/.bin/allure generate allure-results -o allure-report

clean: down
	rm -rf allure-results allure-report .crashcart .pytest_cache
