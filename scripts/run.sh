#!/usr/bin/env bash
# The main job: on a fresh Debian 12 machine (as root) install what wirescope
# needs, build it, and run the discovery service with its web UI on
# http://127.0.0.1:5000 (override with e.g. `bash scripts/run.sh --listen 0.0.0.0:5000 --token S3CRET`;
# every argument goes to `wirescope serve`).
#
# Discovery itself needs no Debian package (it talks netlink and reads procfs
# directly). Container engines that are installed but not running (dockerd,
# podman's API service) are started so their containers show up; set
# WIRESCOPE_START_ENGINES=0 to leave them alone.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

if ! command -v node >/dev/null || ! node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)'; then
  echo "run: wirescope needs Node.js >= 20.19 (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

# ca-certificates for the npm registry; procps/psmisc only for the daemon scripts' checks;
# libpcap0.8 for capture filters (its compiler is loaded through FFI, nothing is run).
ws_install_packages ca-certificates procps libpcap0.8

# npm ci runs the prepare script, which builds dist/ and the web UI (web/dist).
ws_npm_ci
[ -f web/dist/index.html ] || npm run --silent build

if [ "${WIRESCOPE_START_ENGINES:-1}" != 0 ]; then
  command -v dockerd >/dev/null && { bash scripts/daemons/dockerd.sh start || echo "run: dockerd did not start; going on" >&2; }
  command -v podman >/dev/null && { bash scripts/daemons/podman.sh start || echo "run: podman service did not start; going on" >&2; }
fi

exec node bin/wirescope.js serve "$@"
