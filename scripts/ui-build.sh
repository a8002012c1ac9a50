#!/bin/sh
# ui-build.sh OUT.c: bundle the web UI (ui/, esbuild) into $(dirname OUT)/ui and embed it as C (scripts/ui-embed.mjs).
# npm ci in ui/ first when its lock differs from the one installed last. Run by make (UI=1); docs/ui.md.
set -e
out="$1"
dist="$(dirname "$out")/ui"
if ! cmp -s ui/package-lock.json ui/node_modules/.hookd-lock; then
	echo "ui: npm ci in ui/"
	(cd ui && npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.hookd-lock)
fi
rm -rf "$dist"
node ui/build.mjs "$dist"
node scripts/ui-embed.mjs "$dist" "$out"
