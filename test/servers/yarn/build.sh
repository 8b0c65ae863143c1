#!/usr/bin/env bash
# Builds the YARN test harness (test/servers/yarn) once per Hadoop version and source hash.
# Output: ~/.cache/ebbtide/yarn/<hadoop version>/<hash>/{classes/,classpath.txt}; prints that
# directory. Idempotent: a second run with the same sources only checks the cache. Jars come from
# Maven Central into ~/.m2/repository (a cold run downloads ~250 MB).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
HADOOP_VERSION=3.4.2
hash="$(cat "$here/pom.xml" $(find "$here/src" -type f | sort) | sha256sum | cut -c1-16)"
out="${EBBTIDE_CACHE:-$HOME/.cache/ebbtide}/yarn/$HADOOP_VERSION/$hash"

complete() {
  [ -f "$out/classpath.txt" ] && [ -f "$out/classes/dev/ebbtide/yarn/YarnHarness.class" ] || return 1
  local jar
  while IFS= read -r jar; do [ -f "$jar" ] || return 1; done < <(tr ':' '\n' < "$out/classpath.txt")
}

if ! complete; then
  work="$out.build.$$"
  rm -rf "$work"
  mkdir -p "$work"
  cp -r "$here/pom.xml" "$here/src" "$work/"
  echo "yarn harness: building with Maven (Hadoop $HADOOP_VERSION) in $work" >&2
  repo=()
  # MAVEN_REPO_LOCAL: another local repository (a cold-start measurement uses an empty one).
  [ -n "${MAVEN_REPO_LOCAL:-}" ] && repo=(-Dmaven.repo.local="$MAVEN_REPO_LOCAL")
  (cd "$work" && mvn -q -B "${repo[@]}" compile dependency:build-classpath -Dmdep.outputFile="$work/classpath.txt" 2>&1 \
    | sed 's/\x1b\[[0-9;]*m//g' >&2) || { echo "yarn harness: Maven build failed" >&2; exit 1; }
  mkdir -p "$work/classes"
  cp -r "$work/target/classes/." "$work/classes/"
  rm -rf "$work/target" "$out"
  mv "$work" "$out"
fi
echo "$out"
