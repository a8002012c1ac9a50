#!/bin/sh
# make run: start hookd on 127.0.0.1:8071 with ./data, then print the token and a first curl to try.
set -e
bin=${1:-build/hookd}
listen=${HOOKD_LISTEN:-127.0.0.1:8071}
data=${HOOKD_DATA:-./data}
# the tour's receiver is on 127.0.0.1, which the SSRF guard blocks by default (docs/security.md)
"$bin" serve --listen "$listen" --data "$data" --allow-network "${HOOKD_ALLOW_NETWORK:-127.0.0.0/8}" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid; exit 0' INT TERM
for _ in $(seq 1 100); do
	if curl -fsS -o /dev/null "http://$listen/api/v1/health" 2>/dev/null; then break; fi
	kill -0 $pid 2>/dev/null || { wait $pid; exit $?; }
	sleep 0.1
done
token=${HOOKD_TOKEN:-$(cat "$data/token" 2>/dev/null)}
cat <<TXT

hookd is running on http://$listen (data in $data; Ctrl-C stops it)
Deliveries to loopback (127.0.0.0/8) are allowed for this demo: the SSRF guard blocks them by default.
API token: $token
Dashboard: http://$listen/ui/ (sign in with the token; docs/ui.md)

Try it:
  export HOOKD=http://$listen TOKEN=$token
  curl -s -X POST \$HOOKD/api/v1/app -H "Authorization: Bearer \$TOKEN" \\
       -H 'content-type: application/json' -d '{"name":"demo","uid":"demo"}'
  curl -s -X POST \$HOOKD/api/v1/app/demo/endpoint -H "Authorization: Bearer \$TOKEN" \\
       -H 'content-type: application/json' -d '{"url":"http://127.0.0.1:9000/hook"}'
  curl -s -X POST \$HOOKD/api/v1/app/demo/msg -H "Authorization: Bearer \$TOKEN" \\
       -H 'content-type: application/json' -d '{"eventType":"user.created","payload":{"id":1}}'

TXT
wait $pid
