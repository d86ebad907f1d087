#!/bin/sh
# Builds gocheck/ offline against Debian's golang.org/x/mod (tests/gobuild.sh)
# and runs it against the faro-tlog-tool given as $1. Exits 77 (skipped)
# without go or x/mod.
set -eu
tool=$1
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT INT TERM
mkdir -p "$scratch/work"
sh "$here/../gobuild.sh" "$here/gocheck" "$scratch/gocheck"
"$scratch/gocheck" "$tool" "$scratch/work"
