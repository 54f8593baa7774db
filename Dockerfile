# wirescope as a container image. Build from a clone after `npm ci` (the build
# stage compiles from the context's node_modules, so it needs no npm registry):
#   docker build -t wirescope:0.1.0 .
# Start it with deploy/compose.yaml (README, "Three ways to start it").
#
# Base: Debian trixie, because its `nodejs` package is 20.19 (wirescope needs
# >= 20.19 for require(esm) and the test runner it is tested with) and glibc
# matches koffi's prebuilt linux-x64 binary. debian:trixie-slim carries no
# Node.js, so the first stage installs Debian's; a base that already has node
# (the tests import a minbase mmdebstrap of trixie with nodejs under this name,
# src/deploy/testing/image.ts) skips that step and needs no network at all.
ARG BASE=debian:trixie-slim

FROM ${BASE} AS node
# --no-install-recommends: no npm, no compilers; the apt lists are not kept.
RUN command -v node >/dev/null \
 || { apt-get update \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs \
      && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin; }

FROM node AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json biome.json ./
COPY node_modules ./node_modules
COPY bin ./bin
COPY scripts/lib/prune-dev.mjs ./scripts/lib/prune-dev.mjs
COPY scripts/bundle.mjs ./scripts/bundle.mjs
COPY src ./src
COPY web ./web
# tsc, vite and the CLI bundle (scripts/bundle.mjs, rolldown) straight from node_modules:
# the base has node but no npm.
RUN node node_modules/typescript/bin/tsc -p tsconfig.json \
 && node node_modules/typescript/bin/tsc -p web/tsconfig.json \
 && node node_modules/vite/bin/vite.js build --config web/vite.config.ts --logLevel warn \
 && node scripts/bundle.mjs \
 && node scripts/lib/prune-dev.mjs package-lock.json node_modules \
 # @kubernetes/client-node (57 MB: generated models with their types and maps) runs
 # only inlined in the bundle's chunk for `hub --kubernetes`, so it leaves the image;
 # the build stops if a bundle file imports it from node_modules instead.
 && ! grep -lE "(from|import\()\s*['\"]@kubernetes/client-node['\"]" dist/bundle/*.js \
 && rm -rf node_modules/@kubernetes \
 && find dist -name '*.test.js' -delete -o -name '*.test.d.ts' -delete \
 && rm -rf dist/bench

FROM node
LABEL org.opencontainers.image.title="wirescope" \
      org.opencontainers.image.description="Discovers the virtual networking of a Linux host" \
      org.opencontainers.image.licenses="MIT"
WORKDIR /opt/wirescope
COPY --from=build /src/package.json ./
COPY --from=build /src/bin ./bin
COPY --from=build /src/dist ./dist
COPY --from=build /src/web/dist ./web/dist
COPY --from=build /src/node_modules ./node_modules
ENV NODE_ENV=production
EXPOSE 5000
# Liveness for `docker run` without compose: GET /healthz with bash's /dev/tcp
# (deploy/healthcheck.sh; a node start per check would cost ~160 ms of CPU).
COPY deploy/healthcheck.sh ./healthcheck.sh
HEALTHCHECK --interval=5s --timeout=5s --start-period=2s --retries=3 CMD ["/opt/wirescope/healthcheck.sh"]
ENTRYPOINT ["node", "/opt/wirescope/bin/wirescope.js"]
CMD ["serve", "--listen", "127.0.0.1:5000"]
