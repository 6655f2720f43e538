#!/usr/bin/env bash
# Jaeger v2 without Docker: build the all-in-one binary from its Go module once and keep it in the
# cache (like Keycloak); start it with deploy/jaeger/config.yaml, which binds loopback only.
#
#   deploy/jaeger/jaeger.sh fetch    # build into the cache (once per version; ~6 min on 2 cores)
#   deploy/jaeger/jaeger.sh path     # print the binary's path (exit 1 when it is not built)
#   deploy/jaeger/jaeger.sh run      # fetch if needed, run in the foreground with config.yaml
#
# Settings (environment):
#   JAEGER_MODULE_VERSION  v1.76.0    github.com/jaegertracing/jaeger module version (Jaeger v2 binary)
#   SAMPLE_MCP_CACHE       ~/.cache/sample-mcp
#   JAEGER_HOST            127.0.0.1  interface every port binds to
#   JAEGER_OTLP_GRPC_PORT  4317       OTLP/gRPC receiver
#   JAEGER_OTLP_HTTP_PORT  4318       OTLP/HTTP receiver
#   JAEGER_QUERY_PORT      16686      UI and the HTTP API (GET /api/traces/<id>)
#   JAEGER_QUERY_GRPC_PORT 16685      the query gRPC API
#   JAEGER_UI_ASSETS       (unset)    a built jaeger-ui to serve: a binary built from the Go module has
#                                     only a placeholder page (docs/observability.md)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
JAEGER_MODULE_VERSION=${JAEGER_MODULE_VERSION:-v1.76.0}
CACHE=${SAMPLE_MCP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sample-mcp}
JAEGER_HOME="$CACHE/jaeger-$JAEGER_MODULE_VERSION"
BIN="$JAEGER_HOME/jaeger"

die() { echo "jaeger.sh: $*" >&2; exit 1; }

go_bin() {
  command -v go 2>/dev/null || { [ -x /usr/local/go/bin/go ] && echo /usr/local/go/bin/go; } || die "Go is needed to build Jaeger: https://go.dev/dl/"
}

fetch() {
  [ -x "$BIN" ] && return 0
  local go
  go=$(go_bin)
  mkdir -p "$JAEGER_HOME"
  # A throw-away module: `go get -tool` records the pinned version (and its go.sum) there.
  SCRATCH=$(mktemp -d)
  trap 'rm -rf "$SCRATCH"' EXIT
  echo "jaeger.sh: building github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_MODULE_VERSION into $JAEGER_HOME" >&2
  (
    cd "$SCRATCH"
    "$go" mod init sample-mcp/jaeger-build >/dev/null 2>&1
    "$go" get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_MODULE_VERSION"
    CGO_ENABLED=0 "$go" build -trimpath -ldflags=-s -o "$BIN.tmp" github.com/jaegertracing/jaeger/cmd/jaeger
  ) >&2 || die "go build failed"
  mv "$BIN.tmp" "$BIN"
  rm -rf "$SCRATCH"
}

case "${1:-}" in
  fetch) fetch ;;
  path) [ -x "$BIN" ] && echo "$BIN" || exit 1 ;;
  run)
    fetch
    export JAEGER_HOST=${JAEGER_HOST:-127.0.0.1}
    export JAEGER_OTLP_GRPC_PORT=${JAEGER_OTLP_GRPC_PORT:-4317}
    export JAEGER_OTLP_HTTP_PORT=${JAEGER_OTLP_HTTP_PORT:-4318}
    export JAEGER_QUERY_PORT=${JAEGER_QUERY_PORT:-16686}
    exec "$BIN" --config "$here/config.yaml"
    ;;
  *) die "usage: $0 fetch|path|run" ;;
esac
