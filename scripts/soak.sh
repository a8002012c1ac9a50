#!/bin/sh
# Run the soak (tests/soak/soak.mjs, docs/testing.md) against a built hookd.
#   HOOKD_BIN      the binary (default: build-san/hookd, the sanitized build)
#   SOAK_SECONDS   how long the chaos lasts (default 600); SOAK_RATE, SOAK_CHAOS_EVERY, SOAK_DRAIN_SECONDS,
#                  SOAK_SLOW_CLIENTS, SOAK_SEED, SOAK_KEEP=1: see the top of tests/soak/soak.mjs
# With HOOKD_TEST_PG set (sh scripts/pg.sh run -- sh scripts/soak.sh), hookd runs on PostgreSQL.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
HOOKD_BIN=${HOOKD_BIN:-$root/build-san/hookd}
case $HOOKD_BIN in /*) ;; *) HOOKD_BIN=$(pwd)/$HOOKD_BIN ;; esac
export HOOKD_BIN
if [ ! -x "$HOOKD_BIN" ]; then
	echo "soak: no hookd binary at $HOOKD_BIN (build it, or set HOOKD_BIN)" >&2
	exit 1
fi
# the soak uses the e2e harness and its packages (svix, standardwebhooks)
cd "$root/tests/e2e"
if ! cmp -s package-lock.json node_modules/.hookd-lock; then
	npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.hookd-lock
fi
cd "$root"
exec node tests/soak/soak.mjs
