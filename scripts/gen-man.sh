#!/bin/sh
# make man: hookd.1 from the binary's command and settings tables (hookd help --man), on stdout.
set -e
exec "${1:-build/hookd}" help --man
