#!/usr/bin/env bash
# Installs what the local stack and the tests need, once; safe to run again.
#   uv and the locked Python dependencies; PostgreSQL 15, Java 17 and Maven from Debian's
#   packages when missing; the Kafka broker's jars from Maven Central into .cache/.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
apt_install() {
  [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

export PATH="$HOME/.local/bin:$PATH"
if ! command -v uv >/dev/null 2>&1 && ! python3 -m uv --version >/dev/null 2>&1; then
  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
fi
uv() { if command -v uv >/dev/null 2>&1; then command uv "$@"; else python3 -m uv "$@"; fi; }
uv sync --frozen --quiet

if [ ! -x /usr/lib/postgresql/15/bin/postgres ]; then
  # Keep Debian from starting its own cluster: the project runs its own.
  as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d'
  apt_install postgresql-15 postgresql-client-15
fi
command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
command -v mvn >/dev/null 2>&1 || apt_install maven

uv run --frozen python -c "from deploy.infra import fetch_kafka; fetch_kafka()"

# --- the panel's browser tests ------------------------------------------------------------------
# Chromium and its driver from Debian's packages (nothing downloads a browser), and axe-core
# from the npm registry at the version tests/panel/package-lock.json pins.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  apt_install chromium chromium-driver
fi
command -v npm >/dev/null 2>&1 || apt_install nodejs npm
if [ ! -f tests/panel/node_modules/axe-core/axe.min.js ]; then
  (cd tests/panel && npm ci --no-audit --no-fund --silent)
fi
