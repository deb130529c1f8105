#!/usr/bin/env bash
# Installs the real peers the interop tests and benchmarks run against (Debian packages).
# Best effort on a developer machine: without root or apt-get it says so and the tests skip.
set -u
# The real OpenSearch node (peers/opensearch, docs/logs.md): Java 17 + Maven, built once from Maven
# Central (about 51 MB on a cold ~/.m2); target/ newer than the pom means it is already built.
build_opensearch() {
  [ -n "${KOBAN_SKIP_OPENSEARCH_BUILD:-}" ] && return 0  # tests of this script's apt part
  local dir; dir="$(cd "${BASH_SOURCE[0]%/*}/.." && pwd)/peers/opensearch"
  if ! command -v java >/dev/null 2>&1 || ! command -v mvn >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jdk-headless maven \
        >/dev/null 2>&1 || echo "install-peers: could not install java/maven; OpenSearch tests will skip"
    else
      echo "install-peers: no java/mvn; OpenSearch tests will skip"; return 0
    fi
  fi
  if [ -d "$dir/target/lib" ] && [ "$dir/target/lib" -nt "$dir/pom.xml" ]; then return 0; fi
  (cd "$dir" && mvn -q package && touch target/lib) || echo "install-peers: building peers/opensearch failed"
}
build_opensearch
need=()
for bin in prometheus-alertmanager prometheus prometheus-blackbox-exporter nginx wrk chromium; do
  command -v "$bin" >/dev/null 2>&1 || need+=("$bin")
done
# The browser tests' Japanese pages need CJK fonts (without them every character is a box).
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-peers: not root or no apt-get; peer tests will skip (missing: ${need[*]})"
  exit 0
fi
echo "install-peers: installing ${need[*]}"
# The nginx package's own start (where a package script starts it) writes this file; a pid file
# that is already there belongs to an nginx someone else runs, which we never stop.
pid_file=${KOBAN_NGINX_PID_FILE:-/run/nginx.pid}
had_pid_file=0
[ -e "$pid_file" ] && had_pid_file=1
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
apt-get install -y -qq --no-install-recommends prometheus-alertmanager prometheus \
  prometheus-blackbox-exporter nginx wrk chromium fonts-noto-cjk >/dev/null 2>&1 || echo "install-peers: apt-get install failed"
# Stop only the nginx this install started, by its PID (the tests start their own, on their ports).
if [ "$had_pid_file" = 0 ] && [ -s "$pid_file" ]; then
  pid=$(cat "$pid_file")
  case "$pid" in
    '' | *[!0-9]*) ;;
    *) kill "$pid" >/dev/null 2>&1 && echo "install-peers: stopped the nginx the package started (pid $pid)" ;;
  esac
fi
exit 0
