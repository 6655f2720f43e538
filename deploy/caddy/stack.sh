#!/usr/bin/env bash
# The no-Docker TLS stack on one machine: Keycloak (deploy/keycloak/keycloak.sh), the MCP server
# (npm run serve) and Caddy with its local CA, on https://auth.localhost and https://mcp.localhost.
#
#   deploy/caddy/stack.sh start    # needs: caddy (apt-get install caddy), root or CAP_NET_BIND_SERVICE for :80/:443,
#                                  # and mcp.localhost / auth.localhost resolving to 127.0.0.1 (see docs/caddy.md)
#   deploy/caddy/stack.sh stop
#   deploy/caddy/stack.sh ca       # prints the path of Caddy's root certificate (trust it: CURL_CA_BUNDLE, NODE_EXTRA_CA_CERTS)
#
#   JAEGER=1 deploy/caddy/stack.sh start   # also Jaeger v2 on loopback (deploy/jaeger/jaeger.sh; UI and API on
#                                  # http://127.0.0.1:$JAEGER_QUERY_PORT, default 16686), and the MCP server sends it
#                                  # its traces over OTLP (docs/observability.md); `stop` stops it too
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
STATE=${SAMPLE_MCP_STACK_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sample-mcp/caddy-stack}
MCP_HOST=${MCP_HOST:-mcp.localhost}
AUTH_HOST=${AUTH_HOST:-auth.localhost}
MCP_PORT=${MCP_PORT:-3000}
export KC_PORT=${KC_PORT:-18080} KC_MGMT_PORT=${KC_MGMT_PORT:-19000}
export KC_PUBLIC_URL="https://$AUTH_HOST" KC_PROXY_HEADERS=xforwarded
export MCP_AUDIENCE="https://$MCP_HOST" MCP_ALT_AUDIENCE="https://$MCP_HOST/mcp"
JAEGER=${JAEGER:-0}
export JAEGER_OTLP_HTTP_PORT=${JAEGER_OTLP_HTTP_PORT:-4318} JAEGER_QUERY_PORT=${JAEGER_QUERY_PORT:-16686}
ca() { echo "$STATE/data/caddy/pki/authorities/local/root.crt"; }

start_jaeger() {
  "$repo/deploy/jaeger/jaeger.sh" fetch
  JAEGER_HOST=127.0.0.1 nohup "$repo/deploy/jaeger/jaeger.sh" run >"$STATE/jaeger.log" 2>&1 </dev/null &
  echo $! >"$STATE/jaeger.pid"
  for _ in $(seq 1 60); do
    curl -fsS "http://127.0.0.1:$JAEGER_QUERY_PORT/api/services" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  tail -n 20 "$STATE/jaeger.log" >&2
  exit 1
}

start() {
  command -v caddy >/dev/null 2>&1 || { echo "stack.sh: caddy not found: apt-get install caddy" >&2; exit 1; }
  mkdir -p "$STATE"
  if [ "$JAEGER" = 1 ]; then
    start_jaeger
    export OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$JAEGER_OTLP_HTTP_PORT"
    export OTEL_METRICS_EXPORTER=${OTEL_METRICS_EXPORTER:-none} # Jaeger takes traces only
  fi
  "$repo/deploy/keycloak/keycloak.sh" start
  (
    cd "$repo" || exit 1
    # only the server is backgrounded (not a subshell around it), so $! is the server's pid
    MCP_SERVER_URL="https://$MCP_HOST" KC_ISSUER="https://$AUTH_HOST/realms/mcp" \
      KC_JWKS_URL="http://127.0.0.1:$KC_PORT/realms/mcp/protocol/openid-connect/certs" \
      PORT=$MCP_PORT HOST=127.0.0.1 NODE_ENV=production \
      nohup node --import tsx src/cli/serve.ts >"$STATE/mcp.log" 2>&1 </dev/null &
    echo $! >"$STATE/mcp.pid"
  )
  MCP_HOST=$MCP_HOST AUTH_HOST=$AUTH_HOST KC_UPSTREAM="127.0.0.1:$KC_PORT" MCP_UPSTREAM="127.0.0.1:$MCP_PORT" \
    XDG_DATA_HOME="$STATE/data" XDG_CONFIG_HOME="$STATE/config" \
    nohup caddy run --config "$repo/deploy/caddy/Caddyfile" --adapter caddyfile >"$STATE/caddy.log" 2>&1 </dev/null &
  echo $! >"$STATE/caddy.pid"
  for _ in $(seq 1 60); do
    [ -f "$(ca)" ] && curl -fsS --cacert "$(ca)" "https://$MCP_HOST/healthz" >/dev/null 2>&1 && break
    sleep 1
  done
  curl -fsS --cacert "$(ca)" "https://$MCP_HOST/healthz" >/dev/null || { tail -n 20 "$STATE"/*.log >&2; exit 1; }
  echo "stack.sh: https://$MCP_HOST/mcp and https://$AUTH_HOST/realms/mcp are up; CA: $(ca)" >&2
  [ "$JAEGER" = 1 ] && echo "stack.sh: traces in Jaeger: http://127.0.0.1:$JAEGER_QUERY_PORT" >&2
  return 0
}

stop() {
  local pid
  # Jaeger last: the server exports its last spans as it stops
  for f in caddy mcp jaeger; do
    [ -f "$STATE/$f.pid" ] || continue
    pid=$(cat "$STATE/$f.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$STATE/$f.pid"
  done
  "$repo/deploy/keycloak/keycloak.sh" stop
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  ca) ca ;;
  *) echo "usage: $0 start|stop|ca" >&2; exit 2 ;;
esac
