# syntax=docker/dockerfile:1
#
# The MCP resource server (`npm run serve`) as a container image: used by deploy/compose.yaml, and
# runnable on its own in front of any issuer:
#
#   docker build -t sample-mcp .
#   docker run --rm -p 127.0.0.1:3000:3000 -v sample-mcp-data:/data \
#     -e KC_ISSUER=https://auth.example.com/realms/mcp -e MCP_SERVER_URL=https://mcp.example.com sample-mcp
#
# The server runs its TypeScript sources through tsx (a production dependency): there is no build
# step. Configuration: README.md, "Configuration". test/deploy.test.ts lints this file with hadolint
# and runs its CMD.

ARG NODE_VERSION=22

# ---- deps: production dependencies, with better-sqlite3's native addon -----------------------------
# The full Debian image has python3, make and g++, which better-sqlite3 needs to compile when no
# prebuilt binary can be downloaded. Same Node version and Debian release as the runtime stage, so
# the addon is built for exactly the Node ABI and glibc it will run on.
FROM node:${NODE_VERSION}-bookworm AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# package.json's allowScripts lets npm 11 run better-sqlite3's install script (npm 10 runs it anyway).
RUN npm ci --omit=dev --no-audit --no-fund \
  && npm cache clean --force \
  && node -e "const db = new (require('better-sqlite3'))(':memory:'); db.exec('CREATE VIRTUAL TABLE t USING fts5(x)'); db.close()"

# ---- runtime ----------------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
  HOST=0.0.0.0 \
  PORT=3000 \
  DATA_DIR=/data
WORKDIR /app
# Owned by root and read-only for the user the server runs as.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
# The data directory (the SQLite order store) is the only place the server writes; a named volume
# mounted there starts with this ownership.
RUN mkdir -p /data && chown 1000:1000 /data
# The image's `node` user, by number so that platforms can check it is not root (runAsNonRoot).
USER 1000:1000
EXPOSE 3000
# No curl in slim images: Node's fetch. Exit 0 when /healthz answers 2xx.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# One process: Node with tsx's loader, so SIGTERM (docker stop) reaches the server directly and it
# shuts down cleanly. The same command test/deploy.test.ts runs.
CMD ["node", "--import", "tsx", "src/cli/serve.ts"]
