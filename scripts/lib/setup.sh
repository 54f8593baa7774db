# Shared setup steps for scripts/test.sh and scripts/run.sh (sourced, not run).

# Debian packages: iproute2/util-linux build fixtures and compare with peers
# (ip, lsns, unshare); iptables/nftables for NAT and forwarded-port tests;
# docker.io, containerd, runc and podman are the real engines the engine tests
# drive; busybox-static is the rootfs of every test image and lab container;
# chromium runs the web UI's end-to-end tests; systemd provides systemd-socket-activate,
# the socket activator of the socket-activated podman test (systemd is not started);
# libpcap0.8 compiles capture filters (wirescope loads it through FFI), tshark reads the
# captures' pcapng in the capture tests. mmdebstrap makes the container image's base
# (debian:trixie-slim) without a registry and docker-compose starts deploy/compose.yaml
# (src/deploy/testing/image.ts).
WS_TEST_PACKAGES=(iproute2 util-linux procps iptables nftables busybox-static psmisc
  docker.io containerd runc podman chromium fonts-dejavu-core ca-certificates systemd
  libpcap0.8 tshark mmdebstrap docker-compose)

# ws_install_packages PKG...: installs those of the Debian packages that are missing.
ws_install_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

ws_npm_ci() {
  # Never --omit=optional: koffi's prebuilt binary is an optional dependency.
  node scripts/lib/prune-lock-optionals.mjs package-lock.json
  npm ci --no-audit --no-fund --loglevel=error
}

WS_STARTED=()

ws_start_daemons() {
  local started
  for d in scripts/daemons/*.sh; do
    [ -e "$d" ] || continue
    started=$(bash "$d" start) || { echo "setup: $d failed to start" >&2; return 1; }
    [ -n "$started" ] && WS_STARTED+=("$d")
  done
  return 0
}

ws_stop_daemons() {
  local d
  for d in "${WS_STARTED[@]+"${WS_STARTED[@]}"}"; do bash "$d" stop || true; done
}

ws_run_tests() {
  local tap
  tap=$(mktemp)
  set +e
  node --test --test-concurrency=1 --test-timeout=600000 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap" \
    $(find dist -name '*.test.js' | sort)
  local rc=$?
  set -e
  local skipped todo
  skipped=$(sed -n 's/^# skipped \([0-9]*\)$/\1/p' "$tap" | tail -1)
  todo=$(sed -n 's/^# todo \([0-9]*\)$/\1/p' "$tap" | tail -1)
  rm -f "$tap"
  if [ "$rc" -ne 0 ]; then return "$rc"; fi
  if [ "${skipped:-0}" != 0 ] || [ "${todo:-0}" != 0 ]; then
    echo "test: ${skipped:-0} skipped and ${todo:-0} todo tests: every test must run" >&2
    return 1
  fi
}
