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
# the client commands find 127.0.0.1:8071 and ./data/token by themselves; elsewhere they need telling
cli_flags=""
if [ "$listen" != 127.0.0.1:8071 ] || [ "$data" != ./data ]; then
	cli_flags=" --server http://$listen --token $token"
fi
cat <<TXT

hookd is running on http://$listen (data in $data; Ctrl-C stops it)
Deliveries to loopback (127.0.0.0/8) are allowed for this demo: the SSRF guard blocks them by default.
API token: $token
Dashboard: http://$listen/ui/ (sign in with the token; docs/ui.md)

Try it (the README's tour; start its receiver on 127.0.0.1:9000 first):
  export HOOKD=http://$listen TOKEN=$token
  auth="Authorization: Bearer \$TOKEN"
  curl -s -X POST \$HOOKD/api/v1/app -H "\$auth" -d '{"name":"Acme","uid":"acme"}'
  curl -s -X POST \$HOOKD/api/v1/app/acme/endpoint -H "\$auth" \\
       -d '{"url":"http://127.0.0.1:9000/hook","uid":"acme-hook","eventTypes":["invoice.*"]}'
  curl -s -X POST \$HOOKD/api/v1/app/acme/msg -H "\$auth" \\
       -d '{"eventType":"invoice.paid","payload":{"id":"inv_1","amount":420}}'
  $bin attempts list --app acme --endpoint acme-hook$cli_flags

TXT
wait $pid
