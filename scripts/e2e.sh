#!/bin/sh
# Run the end-to-end tests (tests/e2e/*.test.mjs) against a built hookd.
#   HOOKD_BIN   the binary to test (default: build/hookd)
#   E2E_ARGS    extra arguments for node --test (e.g. --test-name-pattern=retry)
#   E2E_TIMEOUT_MS  the limit of each test file (default: 120000)
#   sh scripts/e2e.sh [test files...]   (default: all)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
default_bin=$root/build/hookd what=e2e
. "$root/scripts/node-env.sh"
cd "$root/tests/e2e"
if [ $# -eq 0 ]; then
	set -- *.test.mjs
fi
echo "e2e: testing $HOOKD_BIN"
# the harness prints a test's logs a little before this limit (a file that times out runs no after hooks)
export E2E_TIMEOUT_MS=${E2E_TIMEOUT_MS:-120000}
# shellcheck disable=SC2086
exec node --test --test-concurrency=2 --test-timeout="$E2E_TIMEOUT_MS" ${E2E_ARGS:-} "$@"
