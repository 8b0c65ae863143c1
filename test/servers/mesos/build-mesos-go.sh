#!/usr/bin/env bash
# Builds mesos-go's api/v1/cmd/example-scheduler, a real Mesos v1 scheduler HTTP client, from the
# Go module proxy into ~/.cache/ebbtide/mesos-go/<version>/ (modules in ~/go/pkg/mod). Idempotent:
# a cached binary built from the same go.mod/go.sum is reused. Prints the binary's path.
# mesos-go v0.0.11 has no go.mod of its own, so mesos-go/go.mod pins what it was written against
# (prometheus client_golang v0.9.4: v1 removed the prometheus.Handler it calls).
set -euo pipefail
VERSION=v0.0.11
here="$(cd "$(dirname "$0")" && pwd)"
cache="${HOME}/.cache/ebbtide/mesos-go/${VERSION}"
bin="${cache}/bin/example-scheduler"
if [ -x "$bin" ] && cmp -s "$here/mesos-go/go.mod" "$cache/src/go.mod" && cmp -s "$here/mesos-go/go.sum" "$cache/src/go.sum"; then
  echo "$bin"
  exit 0
fi
mkdir -p "$cache/src" "$cache/bin"
cp "$here/mesos-go/go.mod" "$here/mesos-go/go.sum" "$here/mesos-go/tools.go" "$cache/src/"
cd "$cache/src"
nice -n 10 go build -o "$bin.tmp" github.com/mesos/mesos-go/api/v1/cmd/example-scheduler >&2
mv "$bin.tmp" "$bin"
echo "$bin"
