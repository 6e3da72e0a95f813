# usergraph's container image (docs/deploy.md).
#
#   docker build -t usergraph .
#   docker run --rm -p 127.0.0.1:4000:4000 --read-only -e DEMO=1 usergraph
#
# Three stages on one base: `build` compiles src/ with the dev tools, `deps` installs the production
# dependencies alone, and `runtime` takes dist/, those node_modules and the explorer's static files from
# them and nothing else (no compiler, no tests, no sources but the explorer's own script and stylesheet).
#
# The base is Node.js 24, the LTS line supported until April 2028, pinned to a release so a rebuild brings
# no surprise; bump the tag deliberately (the Debian "slim" variant: glibc, no curl, no compilers).
# In production, pin the digest too: node:24.19.0-bookworm-slim@sha256:<digest from `docker pull`>.

FROM node:24.19.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency needs one (the only script, @apollo/protobufjs's, makes a folder for its CLI and prints a hint).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24.19.0-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:24.19.0-bookworm-slim AS runtime
# npm, npx and yarn are not needed to run (the command is `node dist/main.js`): removed, so nothing in the
# running container can install or fetch code, and image scanners do not report their dependencies.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
    /usr/local/lib/node_modules/corepack /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg
# HOST: listen on every interface of the container (demo mode would otherwise bind loopback only).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000
WORKDIR /app
# Files stay owned by root and read-only to the user that runs them; usergraph writes nothing to disk
# (logs go to stdout, no temporary files), so the root filesystem can be mounted read-only.
COPY --from=deps /app/package.json ./package.json
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The offline explorer (/explorer, off in production unless GRAPHQL_EXPLORER=1): its script and
# stylesheet, and the named operations it opens as tabs.
COPY src/explorer/public ./src/explorer/public
COPY schema/operations ./schema/operations
# The base image's unprivileged "node" user, by number, so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 4000
# /health/live answers 200 while the event loop runs. The slim image has no curl: Node's own fetch asks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 4000}/health/live`, { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM starts the drain (SHUTDOWN_GRACE_MS); node is PID 1 and handles it itself, so no init is needed.
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
