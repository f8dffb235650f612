#!/usr/bin/env bash
# Installs what gridsnap needs on a fresh Debian machine and prepares the virtualenv.
# Idempotent: a second run only checks. Called by `make run`, `make test`, `make bench`.
set -euo pipefail
cd "$(dirname "$0")/../.."

need_apt=()
PG_MAJOR=""

pg_major() {
  # The newest PostgreSQL server installed from Debian's packages, if any.
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin/postgres 2>/dev/null | sort -V -r); do
    basename "$(dirname "$(dirname "$d")")"; return 0
  done
  return 1
}

if [ -z "${DATABASE_URL:-}" ]; then
  PG_MAJOR="$(pg_major || true)"
  if [ -z "$PG_MAJOR" ]; then
    need_apt+=(postgresql postgis)
  elif [ ! -f "/usr/share/postgresql/$PG_MAJOR/extension/postgis.control" ]; then
    need_apt+=("postgresql-$PG_MAJOR-postgis-3")
  fi
fi
if [ -z "${REDIS_URL:-}" ] && ! command -v redis-server >/dev/null 2>&1; then
  need_apt+=(redis-server)
fi
# the front server of `make run` and of the fault drills in `make test` (deploy/nginx.conf.tmpl);
# supervisord comes from PyPI with the Python dependencies (pyproject.toml)
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  need_apt+=(nginx)
fi
# the PWA is built with npm (make pwa); Node >= 18 (Debian bookworm's nodejs is 18)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  need_apt+=(nodejs npm)
fi
if ! python3 -c 'import sys, venv, ensurepip; assert sys.version_info >= (3, 11)' 2>/dev/null; then
  need_apt+=(python3 python3-venv)
fi
for extra in ${GRIDSNAP_EXTRA_APT:-}; do
  dpkg -s "$extra" >/dev/null 2>&1 || need_apt+=("$extra")
done

if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "gridsnap: installing from Debian's packages: ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
    # Debian's postgresql package may start its own cluster; gridsnap never uses it.
  else
    echo "gridsnap: missing system packages. Install them, then run make again:" >&2
    echo "    sudo apt-get install ${need_apt[*]}" >&2
    echo "(or set DATABASE_URL / REDIS_URL to existing PostgreSQL+PostGIS / Redis servers)" >&2
    exit 1
  fi
fi
if [ -z "${DATABASE_URL:-}" ] && [ -z "$PG_MAJOR" ]; then
  PG_MAJOR="$(pg_major)"
  if [ ! -f "/usr/share/postgresql/$PG_MAJOR/extension/postgis.control" ]; then
    if [ "$(id -u)" = 0 ]; then
      apt-get install -y -qq --no-install-recommends "postgresql-$PG_MAJOR-postgis-3" >/dev/null
    else
      echo "gridsnap: install PostGIS: sudo apt-get install postgresql-$PG_MAJOR-postgis-3" >&2; exit 1
    fi
  fi
fi

if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)'; then
  echo "gridsnap: the PWA needs Node.js 18 or newer (found $(node --version))" >&2; exit 1
fi

# Python dependencies in .venv, reinstalled when pyproject.toml changes.
PY=python3
if [ ! -x .venv/bin/python ]; then
  echo "gridsnap: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.gridsnap-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "gridsnap: installing Python dependencies into .venv"
  .venv/bin/pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/pip install -q --disable-pip-version-check -e '.[dev]'
  touch "$stamp"
fi
