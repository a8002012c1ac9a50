#!/bin/sh
# Install what hookd needs, only when it is missing.
#   sh scripts/deps.sh        to build and test (make test): the -dev packages, check, PostgreSQL, clang, curl,
#                             chromium, and the npm packages of ui/ and tests/e2e/
#   sh scripts/deps.sh run    to build and run (make run): the -dev packages, pkg-config and ui/'s npm packages
set -e
mode=${1:-test}
need=""
pkg-config --exists libmicrohttpd || need="$need libmicrohttpd-dev"
pkg-config --exists libcurl       || need="$need libcurl4-openssl-dev"
pkg-config --exists sqlite3       || need="$need libsqlite3-dev"
pkg-config --exists jansson       || need="$need libjansson-dev"
pkg-config --exists libcrypto     || need="$need libssl-dev"
pkg-config --exists libpq         || need="$need libpq-dev"
pkg-config --exists libpcre2-8    || need="$need libpcre2-dev"
pkg-config --exists lua5.4        || need="$need liblua5.4-dev"
command -v pkg-config >/dev/null  || need="$need pkg-config"
if [ "$mode" = test ]; then
pkg-config --exists check         || need="$need check"
# the PostgreSQL server for the tests (scripts/pg.sh starts a throwaway cluster; psql comes with it)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need="$need postgresql"
command -v clang >/dev/null       || need="$need clang"
command -v curl >/dev/null        || need="$need curl"
# the browser the UI tests drive (tests/e2e/ui.test.mjs, playwright-core): Debian's, never a downloaded one
[ -x /usr/bin/chromium ]          || need="$need chromium"
fi
if [ -n "$need" ]; then
	if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
	echo "deps: installing$need"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $need >/dev/null
fi
# npm ci again whenever the committed lock file differs from the one installed last (the UI's: esbuild, Preact)
if command -v npm >/dev/null && ! cmp -s ui/package-lock.json ui/node_modules/.hookd-lock; then
	echo "deps: npm ci in ui"
	(cd ui && npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.hookd-lock)
fi
if [ "$mode" = test ] && [ -f tests/e2e/package-lock.json ] && ! cmp -s tests/e2e/package-lock.json tests/e2e/node_modules/.hookd-lock; then
	echo "deps: npm ci in tests/e2e"
	(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.hookd-lock)
fi
