#!/usr/bin/env bash
# Builds the real control plane (kube-apiserver, kube-scheduler, kube-controller-manager, etcd)
# from Go modules once and caches it outside the clone, keyed by the Kubernetes version, so CI on
# the same machine reuses it. A warm call only checks a stamp and prints the folder.
#   test/servers/kubernetes/build.sh        -> last line of stdout: the bin folder
# Env: EBBTIDE_CACHE (default ~/.cache/ebbtide). A cold build takes tens of minutes on 2 cores:
# run it in the background with nice (as .ci/run and the tests' helpers do).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="$(sed -n 's/^\s*\(require \)\?k8s.io\/kubernetes \(v[0-9.]*\)\( .*\)\?$/\2/p' "$here/go/go.mod")"
[ -n "$version" ] || { echo "build.sh: no k8s.io/kubernetes vX.Y.Z requirement in $here/go/go.mod" >&2; exit 1; }
minor="$(cut -d. -f2 <<<"$version")"
root="${EBBTIDE_CACHE:-$HOME/.cache/ebbtide}/kubernetes/$version"
bin="$root/bin"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
# The stamp covers what decides the binaries' content (bump the recipe number when changing how
# they are built), not this file's comments.
recipe=1
stamp="$(cat "$here/go/go.mod" "$here/go/go.sum" <(echo "recipe=$recipe $ldflags") | sha256sum | cut -d' ' -f1)"
programs=(etcd kube-apiserver kube-scheduler kube-controller-manager)

built() {
  [ "$(cat "$bin/.stamp" 2>/dev/null)" = "$stamp" ] || return 1
  for p in "${programs[@]}"; do [ -x "$bin/$p" ] || return 1; done
}

if built; then echo "$bin"; exit 0; fi
mkdir -p "$root"
exec 9>"$root/.lock"
flock 9 # one build at a time; a second caller waits and then finds the cache warm
if built; then echo "$bin"; exit 0; fi

start=$(date +%s)
tmp="$(mktemp -d "$root/build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
cd "$here/go"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
go mod download
echo "build.sh: building Kubernetes $version control plane into $bin" >&2
go build -trimpath -ldflags "$ldflags" -o "$tmp/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kube-controller-manager
go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3
chmod 755 "$tmp"
echo "$stamp" > "$tmp/.stamp"
rm -rf "$bin.old"; [ -d "$bin" ] && mv "$bin" "$bin.old"
mv "$tmp" "$bin"; rm -rf "$bin.old"
trap - EXIT
echo "build.sh: built in $(( $(date +%s) - start ))s" >&2
echo "$bin"
