#!/usr/bin/env bash
# Installs what the local stack and the tests need, once; safe to run again.
#   uv (into .cache/tools when it is not on PATH) and the locked Python dependencies;
#   PostgreSQL 15, Java 17 and Maven from Debian's packages when missing; the Kafka broker's
#   jars from Maven Central into .cache/. Nothing is installed into the system Python, and
#   nothing is left behind in /usr/sbin.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "setup: $*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else fail "installing Debian packages needs root: run \`make setup\` once as root (or install sudo)"
  fi
}
apt_updated=""
apt_install() {
  [ -n "$apt_updated" ] || { as_root apt-get update -qq || fail "apt-get update failed (see above)"; apt_updated=1; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
    || fail "could not install $* from Debian's packages (see above)"
}

python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
  || fail "Python 3.11 or newer is needed as python3 (found: $(python3 --version 2>&1 || echo none))"

# uv: the one on PATH, an earlier `pip install --user`, or our own in a virtual environment
# (a stock Debian refuses pip installs into the system Python, PEP 668).
UV_VERSION=0.13.9
if command -v uv >/dev/null 2>&1; then UV=uv
elif [ -x "$HOME/.local/bin/uv" ]; then UV="$HOME/.local/bin/uv"
else
  UV=.cache/tools/bin/uv
  if [ ! -x "$UV" ]; then
    # Debian keeps venv's pip bootstrap in python3-venv, which a stock system lacks.
    python3 -m venv .cache/tools >/dev/null 2>&1 || { rm -rf .cache/tools; apt_install python3-venv; python3 -m venv .cache/tools; }
    .cache/tools/bin/pip install --quiet --disable-pip-version-check "uv==$UV_VERSION" \
      || fail "could not install uv $UV_VERSION from PyPI (see above)"
  fi
fi
"$UV" sync --frozen --quiet || fail "uv could not install the locked dependencies (see above)"

if [ ! -x /usr/lib/postgresql/15/bin/postgres ]; then
  # Keep Debian from starting a cluster of its own while it installs (the project runs its
  # own), and take the guard away again, unless it was there before us.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d'
    trap 'as_root rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt_install postgresql-15 postgresql-client-15
fi
command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
command -v mvn >/dev/null 2>&1 || apt_install maven

"$UV" run --frozen python -c "from deploy.infra import fetch_kafka; fetch_kafka()" \
  || fail "could not fetch the Kafka broker's jars from Maven Central (see above)"

# --- the panel's browser tests ------------------------------------------------------------------
# Chromium and its driver from Debian's packages (nothing downloads a browser), and axe-core
# from the npm registry at the version tests/panel/package-lock.json pins.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  apt_install chromium chromium-driver
fi
command -v npm >/dev/null 2>&1 || apt_install nodejs npm
if [ ! -f tests/panel/node_modules/axe-core/axe.min.js ]; then
  (cd tests/panel && npm ci --no-audit --no-fund --silent) || fail "npm could not install axe-core for the panel tests (see above)"
fi

# --- the benchmarks (make bench) ----------------------------------------------------------------
# wrk, the load generator of the HTTP benchmarks, from Debian's packages.
if [ "${1:-}" = "--bench" ] && ! command -v wrk >/dev/null 2>&1; then
  apt_install wrk
fi
