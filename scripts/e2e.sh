#!/bin/sh
# Run the end-to-end tests (tests/e2e/*.test.mjs) against a built hookd.
#   HOOKD_BIN   the binary to test (default: build/hookd)
#   E2E_ARGS    extra arguments for node --test (e.g. --test-name-pattern=retry)
#   sh scripts/e2e.sh [test files...]   (default: all)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
HOOKD_BIN=${HOOKD_BIN:-$root/build/hookd}
case $HOOKD_BIN in /*) ;; *) HOOKD_BIN=$(pwd)/$HOOKD_BIN ;; esac
export HOOKD_BIN
if [ ! -x "$HOOKD_BIN" ]; then
	echo "e2e: no hookd binary at $HOOKD_BIN (build it, or set HOOKD_BIN)" >&2
	exit 1
fi
cd "$root/tests/e2e"
if ! cmp -s package-lock.json node_modules/.hookd-lock; then
	npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.hookd-lock
fi
if [ $# -eq 0 ]; then
	set -- *.test.mjs
fi
echo "e2e: testing $HOOKD_BIN"
# shellcheck disable=SC2086
exec node --test --test-concurrency=2 --test-timeout=120000 ${E2E_ARGS:-} "$@"
