#!/bin/sh
# Run the soak (tests/soak/soak.mjs, docs/testing.md) against a built hookd.
#   HOOKD_BIN      the binary (default: build-san/hookd, the sanitized build)
#   SOAK_SECONDS   how long the chaos lasts (default 600); SOAK_RATE, SOAK_CHAOS_EVERY, SOAK_DRAIN_SECONDS,
#                  SOAK_SLOW_CLIENTS, SOAK_SEED, SOAK_KEEP=1: see the top of tests/soak/soak.mjs
# With HOOKD_TEST_PG set (sh scripts/pg.sh run -- sh scripts/soak.sh), hookd runs on PostgreSQL.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
default_bin=$root/build-san/hookd what=soak
. "$root/scripts/node-env.sh"
cd "$root"
exec node tests/soak/soak.mjs
