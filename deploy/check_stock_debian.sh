#!/usr/bin/env bash
# Proves that deploy/setup.sh works on a stock Debian 12, as a stock user would run it.
#
# Builds a minimal Debian 12 (bookworm) with debootstrap, adds only what a person who clones
# the repository has (python3, git, make, ca-certificates, sudo) and an ordinary user with
# sudo, clones the committed HEAD of this repository into that user's home and runs
# `bash deploy/setup.sh` there, twice (it must be safe to run again). Then it checks:
#   - uv lives in a virtual environment (.cache/tools), not in the system Python (PEP 668);
#   - /usr/sbin/policy-rc.d is absent afterwards;
#   - PostgreSQL 15, Java, Maven, Chromium, axe-core, the Kafka jars and the project's .venv
#     are there.
#
# Not part of CI: it downloads about a gigabyte and takes a quarter of an hour or more.
# Needs root (debootstrap, mount, chroot) and a Debian mirror.
#
#   sudo bash deploy/check_stock_debian.sh [TARGET]    # TARGET: /var/tmp/deb12 by default
#
# DEBIAN_MIRROR picks the mirror (default: http://deb.debian.org/debian); KEEP=1 keeps the
# tree for a look around (it is unmounted either way). The last line says PASS or FAIL.
#
# Behind a network that intercepts TLS with a CA of its own, the new system must trust that CA
# as the host does: EXTRA_CA names its certificate files (default: the host's
# /usr/local/share/ca-certificates/*.crt, if any). They are added to the new system's trust
# store, and setup.sh runs with SSL_CERT_FILE and NODE_EXTRA_CA_CERTS pointing at it (uv and
# npm bring CA lists of their own otherwise). On an ordinary network there are none.
set -euo pipefail

TARGET=${1:-/var/tmp/deb12}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
REPO=$(cd "$(dirname "$0")/.." && pwd)
MOUNTS=(proc sys dev dev/pts)

fail() { echo "check_stock_debian: $*" >&2; echo "FAIL"; exit 1; }
step() { echo "== $*"; }

[ "$(id -u)" -eq 0 ] || fail "run as root (debootstrap, mount and chroot need it)"
[ ! -e "$TARGET" ] || fail "$TARGET exists: remove it first (unmount anything under it)"
command -v debootstrap >/dev/null 2>&1 || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap
} || fail "could not install debootstrap"

cleanup() {
  local i
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    if mountpoint -q "$TARGET/${MOUNTS[$i]}"; then umount "$TARGET/${MOUNTS[$i]}"; fi
  done
  if [ -z "${KEEP:-}" ] && [ -d "$TARGET" ]; then
    # Only once nothing is mounted under it, and never across into another file system.
    if findmnt -rno TARGET | grep -q "^$TARGET/"; then
      echo "check_stock_debian: still mounted under $TARGET; not removing it" >&2
    else
      rm -rf --one-file-system "$TARGET"
    fi
  fi
}
trap cleanup EXIT

EXTRA_CA=${EXTRA_CA:-$(ls /usr/local/share/ca-certificates/*.crt 2>/dev/null || true)}
TLS_ENV=()
in_root() { chroot "$TARGET" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
as_user() { in_root runuser -u dev -- env HOME=/home/dev "${TLS_ENV[@]}" bash -c "$1"; }

step "debootstrap --variant=minbase bookworm $TARGET $MIRROR"
debootstrap --variant=minbase bookworm "$TARGET" "$MIRROR" >"$TARGET.debootstrap.log" 2>&1 \
  || { tail -20 "$TARGET.debootstrap.log" >&2; fail "debootstrap failed (log: $TARGET.debootstrap.log)"; }
rm -f "$TARGET.debootstrap.log"

for m in "${MOUNTS[@]}"; do mount --bind "/$m" "$TARGET/$m"; done
cp /etc/resolv.conf "$TARGET/etc/resolv.conf"
# sudo looks its host name up; a real system has it in /etc/hosts.
echo "127.0.1.1 $(hostname)" >>"$TARGET/etc/hosts"
cat >"$TARGET/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb ${MIRROR%/debian}/debian-security bookworm-security main
EOF

step "what a stock user has: python3, git, make, ca-certificates, sudo; a user 'dev' with sudo"
in_root apt-get update -qq
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  python3 git make ca-certificates sudo >/dev/null
if [ -n "$EXTRA_CA" ]; then
  step "trust the network's own CA, as the host does: $EXTRA_CA"
  # shellcheck disable=SC2086  # a list of files
  cp $EXTRA_CA "$TARGET/usr/local/share/ca-certificates/"
  in_root update-ca-certificates >/dev/null
  bundle=/etc/ssl/certs/ca-certificates.crt
  TLS_ENV=(SSL_CERT_FILE=$bundle NODE_EXTRA_CA_CERTS=$bundle)
fi
in_root useradd --create-home --shell /bin/bash dev
echo "dev ALL=(ALL) NOPASSWD: ALL" >"$TARGET/etc/sudoers.d/dev"
chmod 0440 "$TARGET/etc/sudoers.d/dev"
[ -e "$TARGET/usr/sbin/policy-rc.d" ] && fail "the fresh system already has /usr/sbin/policy-rc.d"
in_root python3 -c 'import sys, sysconfig, pathlib
sys.exit(not (pathlib.Path(sysconfig.get_path("stdlib")) / "EXTERNALLY-MANAGED").exists())' \
  || fail "the fresh system's Python is not marked EXTERNALLY-MANAGED (PEP 668)"

step "clone the committed HEAD into /home/dev/order platform (a path with a space)"
git clone --quiet --no-hardlinks "$REPO" "$TARGET/home/dev/order platform"
in_root chown -R dev:dev "/home/dev/order platform"

step "bash deploy/setup.sh, as dev (sudo for the Debian packages)"
apt_history=$(wc -l <"$TARGET/var/log/apt/history.log")
start=$(date +%s)
as_user 'cd ~/"order platform" && bash deploy/setup.sh' || fail "deploy/setup.sh failed"
echo "first run: $(($(date +%s) - start)) s"
start=$(date +%s)
as_user 'cd ~/"order platform" && bash deploy/setup.sh' || fail "deploy/setup.sh failed when run again"
echo "second run: $(($(date +%s) - start)) s"

step "checks"
check() { if in_root bash -c "$2"; then echo "ok   $1"; else echo "FAIL $1"; failed=1; fi; }
failed=""
project="/home/dev/order platform"
check "uv is in a virtual environment under .cache/tools" \
  "test -x '$project/.cache/tools/bin/uv' && test -f '$project/.cache/tools/pyvenv.cfg'"
check "no uv in the system Python or on the system PATH" \
  "! python3 -c 'import uv' 2>/dev/null && ! command -v uv && ! ls /usr/local/bin | grep -q ."
check "no pip was installed into the system" "! python3 -m pip --version 2>/dev/null"
check "/usr/sbin/policy-rc.d is absent" "test ! -e /usr/sbin/policy-rc.d"
check "PostgreSQL 15" "test -x /usr/lib/postgresql/15/bin/postgres"
check "Java and Maven" "command -v java && command -v mvn"
check "Chromium and its driver" "test -x /usr/bin/chromium && test -x /usr/bin/chromedriver"
check "axe-core for the panel tests" "test -f '$project/tests/panel/node_modules/axe-core/axe.min.js'"
check "the project's virtual environment imports the services" \
  "cd '$project' && .venv/bin/python -c 'import services.orders.app, deploy.infra'"
check "the Kafka broker's jars" \
  "test -f '$project/.cache/kafka/libs/.complete' && ls '$project/.cache/kafka/libs' | grep -q '^kafka_2.13-4'"
echo "what setup.sh asked apt for:"
tail -n +"$((apt_history + 1))" "$TARGET/var/log/apt/history.log" | sed -n 's/^Commandline: /  /p'

[ -z "$failed" ] || fail "some checks failed (above)"
echo "PASS"
