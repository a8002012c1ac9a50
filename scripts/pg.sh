#!/bin/sh
# pg.sh: a throwaway PostgreSQL cluster for the tests (docs/testing.md).
#   sh scripts/pg.sh run -- CMD ARGS...   start a cluster, run CMD with HOOKD_TEST_PG set, then stop the cluster and
#                                         remove its directory (also when CMD fails, or on Ctrl-C / SIGTERM / SIGHUP);
#                                         exits with CMD's status
#   sh scripts/pg.sh start                start one and leave it running (for debugging): prints the exports to eval
#   sh scripts/pg.sh stop DIR             stop a cluster from `start` and remove DIR
#   sh scripts/pg.sh ctl DIR ARGS...      pg_ctl ARGS on that cluster as its user (e.g. `restart -m fast`)
# CMD (and the shell of `start`) gets:
#   HOOKD_TEST_PG        postgres://hookd@127.0.0.1:PORT/postgres  (superuser hookd, trust authentication)
#   HOOKD_TEST_PG_DIR    the cluster's directory: data/ (PGDATA), log, the unix socket
#   HOOKD_TEST_PG_BIN    the server's bin directory (psql, pg_ctl, ...)
# The server runs as an unprivileged user (PostgreSQL refuses root): when we are root, PG_USER, else the Debian
# `postgres` user if it exists, else a system user `hookd-pg` (created once); otherwise the calling user. It listens
# on 127.0.0.1 only, on a random free port (another one when it is taken; PG_PORT=N to try N first), fsync on.
# PG_CONF_EXTRA='name = value; ...' adds settings (for profiling: shared_preload_libraries = 'pg_stat_statements').
# PG_BIN=/usr/lib/postgresql/N/bin picks the binaries (default: the newest version installed). pg.sh needs only
# sh, util-linux (runuser, setsid) and procps; the cluster takes about 1 s to start and stop.
set -eu

die() { echo "pg.sh: $*" >&2; exit 2; }

find_bin() {
	if [ -n "${PG_BIN:-}" ]; then
		[ -x "$PG_BIN/initdb" ] || die "no initdb in PG_BIN=$PG_BIN"
		echo "$PG_BIN"
		return
	fi
	best=""
	for b in /usr/lib/postgresql/*/bin; do
		[ -x "$b/initdb" ] || continue
		v=${b#/usr/lib/postgresql/}
		v=${v%/bin}
		if [ -z "$best" ] || [ "${v%%.*}" -gt "${best%%.*}" ]; then best=$v; fi
	done
	[ -n "$best" ] || die "no PostgreSQL server in /usr/lib/postgresql/*/bin (make deps installs it)"
	echo "/usr/lib/postgresql/$best/bin"
}

# The user the server runs as: set pguser, and as_pg (a command prefix) when it is not us.
pick_user() {
	as_pg=""
	if [ "$(id -u)" != 0 ]; then
		pguser=$(id -un)
		return
	fi
	if [ -n "${PG_USER:-}" ]; then
		pguser=$PG_USER
		id "$pguser" >/dev/null 2>&1 || die "no user $pguser (PG_USER)"
	elif id postgres >/dev/null 2>&1; then
		pguser=postgres
	else
		pguser=hookd-pg
		if ! id "$pguser" >/dev/null 2>&1; then
			useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$pguser" 2>/dev/null ||
				id "$pguser" >/dev/null 2>&1 || die "could not create the system user $pguser"
		fi
	fi
	as_pg="runuser -u $pguser --"
}

# Run a command as the server's user, from the cluster dir (the caller's cwd may be closed to that user).
pg_do() { (cd "$dir" && $as_pg "$@"); }

# A random port below the kernel's ephemeral range (so it never collides with ports handed out by bind(0)).
random_port() {
	r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	echo $((15000 + r % 17000))
}

# Create the cluster: sets dir, data, port, url. Leaves nothing behind on failure.
create() {
	bin=$(find_bin)
	pick_user
	dir=$(mktemp -d "${TMPDIR:-/tmp}/hookd-pg.XXXXXX")
	data=$dir/data
	[ -z "$as_pg" ] || chown "$pguser" "$dir"
	$as_pg test -w "$dir" || { rm -rf "$dir"; die "$pguser cannot write $dir (set TMPDIR to a directory it can reach)"; }
	if ! pg_do "$bin/initdb" -D "$data" -A trust -U hookd -E UTF8 --no-locale >"$dir/initdb.log" 2>&1; then
		cat "$dir/initdb.log" >&2
		rm -rf "$dir"
		die "initdb failed"
	fi
	echo "include = 'hookd.conf'" >>"$data/postgresql.conf"
	tries=0
	port=${PG_PORT:-$(random_port)}
	while :; do
		# everything here is re-read by a plain pg_ctl start/restart too
		cat >"$data/hookd.conf" <<-EOF
			listen_addresses = '127.0.0.1'
			port = $port
			unix_socket_directories = '$dir'
			fsync = on
			synchronous_commit = on
			max_connections = 300
			shared_buffers = 64MB
			max_parallel_workers_per_gather = 0
			log_line_prefix = '%m [%p] %d '
		EOF
		[ -z "${PG_CONF_EXTRA:-}" ] || printf '%s\n' "$PG_CONF_EXTRA" | tr ';' '\n' >>"$data/hookd.conf"
		[ -z "$as_pg" ] || chown "$pguser" "$data/hookd.conf"
		: >"$dir/log"
		[ -z "$as_pg" ] || chown "$pguser" "$dir/log"
		if pg_do "$bin/pg_ctl" -D "$data" -l "$dir/log" -w -t 30 -s start >/dev/null 2>&1; then
			break
		fi
		tries=$((tries + 1))
		if grep -q 'could not bind\|could not create any TCP/IP sockets\|already in use' "$dir/log" && [ $tries -lt 20 ]; then
			port=$(random_port)
			continue # the port was taken: another one
		fi
		cat "$dir/log" >&2
		destroy
		die "the server did not start"
	done
	n=0
	until "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U hookd -d postgres; do
		n=$((n + 1))
		if [ $n -ge 300 ]; then cat "$dir/log" >&2; destroy; die "the server is not ready after 30 s"; fi
		sleep 0.1
	done
	url="postgres://hookd@127.0.0.1:$port/postgres"
	echo "$pguser" >"$dir/user"
	echo "$bin" >"$dir/bin"
}

# A process that runs (a zombie does not: in a container nobody may reap the postmaster pg_ctl left behind).
alive() { kill -0 "$1" 2>/dev/null && ! ps -o stat= -p "$1" 2>/dev/null | grep -q Z; }

# Stop the server (fast, then immediate, then SIGKILL), wait until it is gone, remove the directory. Idempotent.
destroy() {
	[ -n "${dir:-}" ] && [ -d "$dir" ] || return 0
	if [ -f "$data/postmaster.pid" ]; then
		pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)
		pg_do "$bin/pg_ctl" -D "$data" -m fast -w -t 20 -s stop >/dev/null 2>&1 ||
			pg_do "$bin/pg_ctl" -D "$data" -m immediate -w -t 10 -s stop >/dev/null 2>&1 || true
		# pg_ctl returns once the pid file is gone, a moment before the postmaster exits
		n=0
		while [ -n "$pid" ] && alive "$pid" && [ $n -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
		if [ -n "$pid" ] && alive "$pid"; then
			kill -STOP "$pid" 2>/dev/null || true # no new backends while we kill its own (by parent id)
			pkill -KILL -P "$pid" 2>/dev/null || true
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -rf "$dir"
	dir=""
}

# Load a cluster made by `start` (for stop and ctl).
load() {
	dir=${1:?usage: pg.sh stop|ctl DIR}
	dir=$(cd "$dir" && pwd)
	data=$dir/data
	[ -f "$dir/bin" ] && [ -f "$dir/user" ] || die "$dir is not a cluster from pg.sh start"
	bin=$(cat "$dir/bin")
	pguser=$(cat "$dir/user")
	if [ "$(id -u)" = 0 ] && [ "$pguser" != root ]; then as_pg="runuser -u $pguser --"; else as_pg=""; fi
}

where() {
	echo "pg.sh: PostgreSQL $("$bin/postgres" -V | sed 's/^[^0-9]*\([0-9.]*\).*/\1/') on $url (dir $dir, user $pguser)" >&2
}

cmd=${1:-}
[ $# -eq 0 ] || shift
case $cmd in
run)
	[ "${1:-}" = -- ] && shift
	[ $# -gt 0 ] || die "usage: pg.sh run -- CMD ARGS..."
	dir="" data="" child=""
	# CMD runs in its own session (setsid), so that its whole process group can be signalled by id: on a signal to
	# us (Ctrl-C reaches only us then) and when CMD exits, for what it may have left running against the cluster.
	# A signal is passed on as it came (node --test cleans up on SIGINT); if CMD still runs after 10 s, SIGTERM,
	# and SIGKILL 3 s later.
	end_cmd() {
		[ -n "$child" ] || return 0
		sig=$1
		# a background CMD of sh starts with SIGINT ignored (node resets it, a shell does not): SIGTERM for it then
		if [ "$sig" = INT ] && ignores_int "$child"; then sig=TERM; fi
		kill -"$sig" "-$child" 2>/dev/null || kill -"$sig" "$child" 2>/dev/null || true
		n=0
		while alive "$child" && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
		if alive "$child"; then
			kill -TERM "-$child" 2>/dev/null || kill -TERM "$child" 2>/dev/null || true
			n=0
			while alive "$child" && [ $n -lt 30 ]; do sleep 0.1; n=$((n + 1)); done
		fi
		kill -KILL "$child" 2>/dev/null || true
		wait "$child" 2>/dev/null || true
		n=0
		while kill -0 "-$child" 2>/dev/null && [ $n -lt 30 ]; do sleep 0.1; n=$((n + 1)); done
		kill -KILL "-$child" 2>/dev/null || true
		child=""
	}
	ignores_int() {
		m=$(sed -n 's/^SigIgn:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null) || return 1
		[ -n "$m" ] && [ $((0x$(printf %s "$m" | tail -c 1) & 2)) -ne 0 ]
	}
	on_signal() {
		trap '' INT TERM HUP
		end_cmd "$1"
		exit "$2"
	}
	trap 'destroy' EXIT
	trap 'on_signal INT 130' INT
	trap 'on_signal TERM 143' TERM
	trap 'on_signal HUP 129' HUP
	create
	where
	export HOOKD_TEST_PG="$url" HOOKD_TEST_PG_DIR="$dir" HOOKD_TEST_PG_BIN="$bin"
	# in the background so that a signal reaches our trap at once; it keeps our stdin
	if true <&0 2>/dev/null; then exec 3<&0; else exec 3</dev/null; fi
	if command -v setsid >/dev/null; then setsid "$@" 0<&3 3<&- & else "$@" 0<&3 3<&- & fi
	child=$!
	exec 3<&-
	status=0
	wait "$child" || status=$?
	# what CMD left running in its group (dash: kill -SIG -PGID, no "--")
	kill -TERM "-$child" 2>/dev/null || true
	child=""
	if [ "$status" != 0 ] && [ -s "$dir/log" ]; then
		# the log goes away with the cluster: its end, for a CI run that failed
		echo "pg.sh: CMD exited $status; the end of the server log ($dir/log):" >&2
		tail -n 30 "$dir/log" | sed 's/^/pg.sh: | /' >&2
	fi
	exit "$status"
	;;
start)
	create
	where
	echo "export HOOKD_TEST_PG='$url' HOOKD_TEST_PG_DIR='$dir' HOOKD_TEST_PG_BIN='$bin'"
	echo "# stop it with: sh scripts/pg.sh stop $dir" >&2
	;;
stop)
	load "${1:-}"
	destroy
	;;
ctl)
	load "${1:-}"
	shift
	pg_do "$bin/pg_ctl" -D "$data" -l "$dir/log" "$@"
	;;
*)
	die "usage: pg.sh run -- CMD ARGS... | start | stop DIR | ctl DIR PG_CTL_ARGS..."
	;;
esac
