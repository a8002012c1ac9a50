# Sourced by scripts/e2e.sh and scripts/soak.sh: $HOOKD_BIN made absolute and checked (default: $default_bin),
# and the e2e npm packages (svix, standardwebhooks...) installed from their lock file when it changed.
# Needs $root (the checkout), $default_bin and $what (the caller's name, for messages).
HOOKD_BIN=${HOOKD_BIN:-$default_bin}
case $HOOKD_BIN in /*) ;; *) HOOKD_BIN=$(pwd)/$HOOKD_BIN ;; esac
export HOOKD_BIN
if [ ! -x "$HOOKD_BIN" ]; then
	echo "$what: no hookd binary at $HOOKD_BIN (build it, or set HOOKD_BIN)" >&2
	exit 1
fi
(
	cd "$root/tests/e2e"
	if ! cmp -s package-lock.json node_modules/.hookd-lock; then
		npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.hookd-lock
	fi
) || exit 1
