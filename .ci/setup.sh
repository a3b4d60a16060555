#!/usr/bin/env bash
# Prepares a fresh machine for Crashcart: system packages (nginx with njs), PostgreSQL and
# RabbitMQ (used when running, installed and started when missing), the Python virtualenv
# with the project installed, and the Allure report generator (npm). Idempotent: a second
# run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    log "apt-get update"; apt-get update -qq; apt_updated=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- nginx (the API gateway) with the njs module (aggregate /health) -------------------
if ! have nginx || ! ls /usr/lib/nginx/modules/ngx_http_js_module.so >/dev/null 2>&1; then
  apt_install nginx libnginx-mod-http-js
fi

# --- Chromium and its driver (browser tests: Locust's web UI, the Allure report) ---------
# Playwright drives this system browser (suites/helpers/browser.py); it never downloads one.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  apt_install chromium chromium-driver
fi

# --- PostgreSQL -------------------------------------------------------------------------
if ! port_open 5432; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then apt_install postgresql; fi
  ver=$(ls /etc/postgresql | sort -V | tail -n1)
  conf="/etc/postgresql/$ver/main/pg_hba.conf"
  if ! grep -q 'crashcart trust' "$conf"; then
    log "allowing trust auth on 127.0.0.1 for local development ($conf)"
    sed -i '1i host all all 127.0.0.1/32 trust # crashcart trust' "$conf"
  fi
  log "starting PostgreSQL $ver"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start
fi

# The default run holds several platforms' pools at once (the platform, contract-mode
# providers, patched service copies, runtime instances): 100 connections is too few.
pg_min_connections=300
pg_connections=$(psql -h 127.0.0.1 -U postgres -Atc 'SHOW max_connections' 2>/dev/null || echo 0)
if [ "${pg_connections:-0}" -lt "$pg_min_connections" ] && ls /etc/postgresql/*/main >/dev/null 2>&1; then
  ver=$(ls /etc/postgresql | sort -V | tail -n1)
  log "raising PostgreSQL max_connections from $pg_connections to $pg_min_connections (restart)"
  psql -h 127.0.0.1 -U postgres -qc "ALTER SYSTEM SET max_connections = $pg_min_connections"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main restart
  for _ in $(seq 1 30); do port_open 5432 && break; sleep 1; done
fi

# --- RabbitMQ ---------------------------------------------------------------------------
if ! port_open 5672; then
  have rabbitmq-server || apt_install rabbitmq-server
  log "starting RabbitMQ"
  rabbitmq-server -detached
  for _ in $(seq 1 60); do port_open 5672 && break; sleep 1; done
  port_open 5672 || { echo "RabbitMQ did not start on 127.0.0.1:5672" >&2; exit 1; }
fi

# --- Python virtualenv ------------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  python3 -m venv .venv
fi
if ! .venv/bin/python -c 'import chaos, svckit, schemathesis, pact, locust' 2>/dev/null \
   || [ pyproject.toml -nt .venv/.installed ]; then
  log "installing the project into .venv"
  .venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
  touch .venv/.installed
fi

# --- Allure report generator (Node) -----------------------------------------------------
if [ "${CRASHCART_SKIP_ALLURE:-0}" != 1 ] && [ ! -x node_modules/.bin/allure ]; then
  if have npm; then
    log "installing the Allure report generator (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
  else
    log "npm not found: the Allure HTML report will not be built (apt-get install nodejs npm)"
  fi
fi
log "ready"
