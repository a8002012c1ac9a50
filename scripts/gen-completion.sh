#!/bin/sh
# make completion: the bash and zsh completion scripts from the binary's command, verb and flag tables.
#   sh scripts/gen-completion.sh BIN BASH_OUT ZSH_OUT
set -e
"$1" help --completion bash >"$2"
"$1" help --completion zsh >"$3"
