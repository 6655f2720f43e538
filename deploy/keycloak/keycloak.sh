#!/usr/bin/env bash
# Keycloak without Docker: fetch the Quarkus distribution from Maven Central, start it with the
# realm import, wait until it is ready, stop it.
#
#   deploy/keycloak/keycloak.sh fetch    # download + unpack into the cache (once per version)
#   deploy/keycloak/keycloak.sh start    # fetch if needed, start in the background, wait for /health/ready
#   deploy/keycloak/keycloak.sh stop     # stop the instance started with `start`
#   deploy/keycloak/keycloak.sh status   # exit 0 when ready
#
# Settings (environment; defaults are for local development only):
#   KC_VERSION           26.7.3
#   SAMPLE_MCP_CACHE     ~/.cache/sample-mcp     where the distribution is kept (outside git)
#   KC_PORT              18080                   HTTP port (bound to KC_HTTP_HOST)
#   KC_MGMT_PORT         19000                   management port: /health/ready
#   KC_HTTP_HOST         127.0.0.1
#   KC_PUBLIC_URL        http://localhost:$KC_PORT   fixed public URL: the issuer is
#                        $KC_PUBLIC_URL/realms/mcp whatever URL a token was fetched from
#   KC_PROXY_HEADERS     (unset)                 xforwarded behind a proxy that sets X-Forwarded-*
#   KC_DB                dev-mem                 dev-mem: fresh realm import on every start;
#                        dev-file: kept in $KC_HOME/data/h2
#   MCP_AUDIENCE         http://localhost:3000       audiences put into every access token
#   MCP_ALT_AUDIENCE     $MCP_AUDIENCE/mcp
#   KC_ALICE_PASSWORD, KC_BOB_PASSWORD, KC_CAROL_PASSWORD, KC_AUTOMATION_CLIENT_SECRET,
#   KC_BOOTSTRAP_ADMIN_USERNAME / KC_BOOTSTRAP_ADMIN_PASSWORD (master realm admin)
#   KC_DCR_LOOPBACK_NAME, KC_DCR_LOOPBACK_IP  loopback hosts trusted for registration (dev);
#                        set both to chatgpt.com to trust no loopback host
#   JAVA_HOME            a JDK 21+ (Keycloak 26.7 supports 17, 21 and 25); found automatically
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
KC_VERSION=${KC_VERSION:-26.7.3}
CACHE=${SAMPLE_MCP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sample-mcp}
KC_HOME="$CACHE/keycloak-$KC_VERSION"
KC_PORT=${KC_PORT:-18080}
KC_MGMT_PORT=${KC_MGMT_PORT:-19000}
KC_HTTP_HOST=${KC_HTTP_HOST:-127.0.0.1}
KC_PUBLIC_URL=${KC_PUBLIC_URL:-http://localhost:$KC_PORT}
KC_DB=${KC_DB:-dev-mem}
RUN_DIR="$CACHE/run-$KC_PORT"
PID_FILE="$RUN_DIR/keycloak.pid"
LOG_FILE="$RUN_DIR/keycloak.log"

die() { echo "keycloak.sh: $*" >&2; exit 1; }

fetch() {
  [ -x "$KC_HOME/bin/kc.sh" ] && return 0
  command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is needed to fetch Keycloak from Maven Central: apt-get install maven"
  mkdir -p "$CACHE"
  echo "keycloak.sh: fetching org.keycloak:keycloak-quarkus-dist:$KC_VERSION:zip into $CACHE" >&2
  # Maven runs without a project, in a scratch directory: it writes its unpack markers under
  # "${project.basedir}/target" of the current directory whatever -Dmdep.markersDirectory says.
  local scratch
  scratch=$(mktemp -d)
  (cd "$scratch" && mvn -q -B dependency:unpack -Dartifact="org.keycloak:keycloak-quarkus-dist:$KC_VERSION:zip" \
    -DoutputDirectory="$CACHE" -Dmdep.overWriteIfNewer=true >&2) || { rm -rf "$scratch"; die "mvn dependency:unpack failed"; }
  rm -rf "$scratch"
  [ -x "$KC_HOME/bin/kc.sh" ] || die "unpacking did not produce $KC_HOME/bin/kc.sh"
}

java_major() { "$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1; }

pick_java() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ] && [ "$(java_major "$JAVA_HOME/bin/java")" -ge 21 ]; then
    return 0
  fi
  local best="" best_v=0 j v
  for j in /usr/lib/jvm/*/bin/java; do
    [ -x "$j" ] || continue
    v=$(java_major "$j")
    if [ -n "$v" ] && [ "$v" -ge 21 ] && [ "$v" -gt "$best_v" ]; then best=$j; best_v=$v; fi
  done
  if [ -n "$best" ]; then
    JAVA_HOME=$(dirname "$(dirname "$best")")
  elif command -v java >/dev/null 2>&1 && [ "$(java_major java)" -ge 17 ]; then
    JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")") # 17: supported, deprecated
  else
    die "no JDK 17+ found: install one (apt-get install openjdk-17-jdk) or set JAVA_HOME"
  fi
  export JAVA_HOME
}

ready() { curl -fsS -o /dev/null "http://$KC_HTTP_HOST:$KC_MGMT_PORT/health/ready" 2>/dev/null; }

start() {
  if ready; then echo "keycloak.sh: already running on port $KC_PORT" >&2; return 0; fi
  fetch
  pick_java
  mkdir -p "$RUN_DIR" "$KC_HOME/data/import"
  cp "$here/mcp-realm.json" "$here/other-realm.json" "$KC_HOME/data/import/"
  export MCP_AUDIENCE=${MCP_AUDIENCE:-http://localhost:3000}
  export MCP_ALT_AUDIENCE=${MCP_ALT_AUDIENCE:-$MCP_AUDIENCE/mcp}
  export KC_ALICE_PASSWORD=${KC_ALICE_PASSWORD:-alice-dev-password}
  export KC_BOB_PASSWORD=${KC_BOB_PASSWORD:-bob-dev-password}
  export KC_CAROL_PASSWORD=${KC_CAROL_PASSWORD:-carol-dev-password}
  export KC_AUTOMATION_CLIENT_SECRET=${KC_AUTOMATION_CLIENT_SECRET:-automation-dev-secret}
  export KC_BOOTSTRAP_ADMIN_USERNAME=${KC_BOOTSTRAP_ADMIN_USERNAME:-admin}
  export KC_BOOTSTRAP_ADMIN_PASSWORD=${KC_BOOTSTRAP_ADMIN_PASSWORD:-admin-dev-password}
  echo "keycloak.sh: starting Keycloak $KC_VERSION (Java $(java_major "$JAVA_HOME/bin/java")) on $KC_PUBLIC_URL, log $LOG_FILE" >&2
  local started=$SECONDS
  nohup "$KC_HOME/bin/kc.sh" start-dev \
    --http-host="$KC_HTTP_HOST" --http-port="$KC_PORT" \
    --http-management-host="$KC_HTTP_HOST" --http-management-port="$KC_MGMT_PORT" \
    --hostname="$KC_PUBLIC_URL" --hostname-backchannel-dynamic=true \
    --health-enabled=true --import-realm --db="$KC_DB" \
    ${KC_PROXY_HEADERS:+--proxy-headers="$KC_PROXY_HEADERS"} \
    >"$LOG_FILE" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
  for _ in $(seq 1 "${KC_START_TIMEOUT:-240}"); do
    if ready; then
      echo "keycloak.sh: ready after $((SECONDS - started)) s (issuer $KC_PUBLIC_URL/realms/mcp)" >&2
      return 0
    fi
    kill -0 "$(cat "$PID_FILE")" 2>/dev/null || { tail -n 30 "$LOG_FILE" >&2; die "Keycloak exited during start-up"; }
    sleep 1
  done
  tail -n 30 "$LOG_FILE" >&2
  die "Keycloak not ready after ${KC_START_TIMEOUT:-240} s"
}

stop() {
  [ -f "$PID_FILE" ] || { echo "keycloak.sh: not started by this script (no $PID_FILE)" >&2; return 0; }
  local pid
  pid=$(cat "$PID_FILE")
  # kc.sh execs java; kill the process and whatever it started
  pkill -TERM -P "$pid" 2>/dev/null || true
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PID_FILE"
  echo "keycloak.sh: stopped" >&2
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) ready ;;
  *) die "usage: $0 fetch|start|stop|status" ;;
esac
