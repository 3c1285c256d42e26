# syntax=docker/dockerfile:1
#
# call-reconciler: the daemon (`run`, the default) and its one-shot commands (`audit`, `migrate`).
#
#   docker build -t call-reconciler:0.1.0 .
#   docker run --rm -e DATABASE_URL=postgres://… call-reconciler:0.1.0 audit --json
#
# Both stages use the same Debian 12 slim Node 20 image, pinned by tag (for byte-for-byte reproducible
# builds, pin it by digest too: node:20-bookworm-slim@sha256:…). test/unit/deploy-files.test.ts checks this
# file (COPY sources, ENTRYPOINT vs package.json `bin`, non-root USER, HEALTHCHECK) and reproduces the
# runtime stage's `npm ci` outside Docker.

# ---- build: compile TypeScript ------------------------------------------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
# Dependencies first, so that this layer is cached until the lockfile changes. The optional
# embedded-postgres (demo and tests only) is left out: the build does not need it (src/dev/embedded-loader.ts
# declares the types it uses), and no install script is needed to run tsc.
COPY package.json package-lock.json ./
RUN npm ci --omit=optional --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# Source maps would point at src/, which the runtime image does not ship.
RUN npm run build && find dist -name '*.map' -delete

# ---- runtime: production dependencies + compiled JavaScript ----------------------------------------------
FROM node:20-bookworm-slim AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="call-reconciler" \
      org.opencontainers.image.description="Finds and ends zombie phone calls: rows stuck 'active' after the provider's call-ended webhook was lost" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/example/call-reconciler" \
      org.opencontainers.image.base.name="docker.io/library/node:20-bookworm-slim"
ENV NODE_ENV=production
WORKDIR /app
# No dev dependencies, no embedded-postgres (only the PostgreSQL demos need it: here they exit 2, "embedded
# PostgreSQL is not installed"; `demo --sqlite` runs), no install scripts (the SQLite driver's binaries are in
# its package). Files stay owned by root: the process below cannot modify its own code or dependencies.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force
COPY --from=build /app/dist ./dist
# `call-reconciler` on the PATH, as package.json's bin would be after a global install: the alert texts and
# an operator's `kubectl exec … -- call-reconciler audit` use it.
RUN chmod 755 /app/dist/cli/main.js && ln -s /app/dist/cli/main.js /usr/local/bin/call-reconciler

# The image's `node` user, numerically, so that Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
# /metrics, /healthz, /readyz, /zombies (METRICS_HOST:METRICS_PORT, default 0.0.0.0:9464).
EXPOSE 9464
# Liveness of `run` (slim has no curl: node's own fetch). Kubernetes ignores HEALTHCHECK and uses the probes
# in config/kubernetes/. One-shot commands (audit, migrate) exit long before the start period ends.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.METRICS_PORT || 9464}/healthz`, { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node runs as PID 1: the daemon handles SIGTERM/SIGINT itself (finishes the in-flight pass, closes the pool,
# exits 0 within ~10 s) and starts no child processes, so no init is needed.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
CMD ["run"]
