#!/usr/bin/env bash
# Runs the node built by `mvn -q package` here: run.sh [key=value ...]; env OS_HOME, OS_HTTP_PORT, JAVA_OPTS.
# Heap kept modest: test machines are small and shared.
set -euo pipefail
cd "$(dirname "$0")"
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
exec "$JAVA" -Xms512m -Xmx512m -XX:+UseSerialGC -Djava.awt.headless=true -Dlog4j2.disable.jmx=true \
  -Dopensearch.set.netty.runtime.available.processors=false ${JAVA_OPTS:-} \
  -cp 'target/classes:target/lib/*' koban.KobanOpenSearchNode "$@"
