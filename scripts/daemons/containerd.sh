#!/usr/bin/env bash
# Starts a standalone containerd for the engine tests, separate from Docker's
# own managed containerd: its own socket, root and state directories, so tests
# can create containers in it without touching any other containerd. `start`
# prints a line only when it started one; `stop` stops what `start` started.
set -euo pipefail
source "$(dirname "$0")/../lib/daemon.sh"
DIR=/run/wirescope-containerd
SOCK=$DIR/containerd.sock
ROOT=/var/lib/wirescope-containerd
PIDFILE=/run/wirescope-containerd.pid
LOG=/var/log/wirescope-containerd.log
CONF=$DIR/config.toml

answers() { [ -S "$SOCK" ] && timeout 3 ctr --address "$SOCK" version >/dev/null 2>&1; }

case "${1:-}" in
start)
  if answers; then exit 0; fi
  mkdir -p "$DIR" "$ROOT"
  # The CRI plugin is disabled: these tests drive containerd directly, and CRI
  # would install its own CNI setup and streaming server.
  cat >"$CONF" <<CONF
version = 2
root = "$ROOT"
state = "$DIR/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  address = ""
CONF
  daemon_spawn containerd 30 containerd --config "$CONF"
  ;;
stop)
  daemon_stop
  ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 2
  ;;
esac
