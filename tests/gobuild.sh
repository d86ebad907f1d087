#!/bin/sh
# gobuild.sh SRCDIR OUT: builds the Go command in SRCDIR (its *.go files, std
# lib plus Debian's golang.org/x/mod) offline into OUT: GOPATH mode with
# /usr/share/gocode, a throwaway GOPATH and build cache, no module proxy.
# Exits 77 (the tests' "skipped") without go or golang-golang-x-mod-dev.
set -eu
src=$1
out=$2
gocode=/usr/share/gocode
if ! command -v go >/dev/null || [ ! -d "$gocode/src/golang.org/x/mod/sumdb/tlog" ]; then
    echo "gobuild: skipped: needs go and golang-golang-x-mod-dev"
    exit 77
fi

src=$(cd "$src" && pwd)
name=$(basename "$src")
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT INT TERM
mkdir -p "$scratch/src/$name"
cp "$src"/*.go "$scratch/src/$name/"
case $out in /*) ;; *) out=$(pwd)/$out ;; esac
cd "$scratch"
unset GOFLAGS
GO111MODULE=off GOPATH="$scratch:$gocode" GOCACHE="$scratch/cache" GOPROXY=off go build -o "$out" "$name"
