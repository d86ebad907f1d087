#!/bin/sh
# Builds gocheck/ offline against Debian's golang.org/x/mod (GOPATH mode, no
# network, throwaway GOPATH and build cache) and runs it against the
# faro-tlog-tool given as $1. Exits 77 (skipped) without go or x/mod.
set -eu
tool=$1
gocode=/usr/share/gocode
if ! command -v go >/dev/null || [ ! -d "$gocode/src/golang.org/x/mod/sumdb/tlog" ]; then
    echo "interop: skipped: needs go and golang-golang-x-mod-dev"
    exit 77
fi

here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT INT TERM
mkdir -p "$scratch/src/gocheck" "$scratch/work"
cp "$here/gocheck/main.go" "$scratch/src/gocheck/"
(
    cd "$scratch"
    unset GOFLAGS
    GO111MODULE=off GOPATH="$scratch:$gocode" GOCACHE="$scratch/cache" GOPROXY=off \
        go build -o "$scratch/gocheck" gocheck
)
"$scratch/gocheck" "$tool" "$scratch/work"
