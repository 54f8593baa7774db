#!/usr/bin/env bash
# Starts `podman system service` (podman's Docker-compatible and libpod REST
# API) on /run/podman/podman.sock for the engine tests when nothing answers
# there. Without systemd on the test machine, podman runs with the cgroupfs
# manager and the file events backend, and with ulimits a root without
# CAP_SYS_RESOURCE may set; tests point the CLI at the same containers.conf
# (src/engines/testing/image.ts) so the service sees their containers and events.
# `start` prints a line only when it started the service.
set -euo pipefail
SOCK=/run/podman/podman.sock
PIDFILE=/run/wirescope-podman.pid
LOG=/var/log/wirescope-podman.log
CONF_DIR=/run/wirescope-podman
export CONTAINERS_CONF=$CONF_DIR/containers.conf

# curl may be missing on a fresh machine; node is always there.
answers() {
  [ -S "$SOCK" ] && node -e "require('http').get({socketPath:process.argv[1],path:'/_ping',timeout:2000},(r)=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1)).on('timeout',()=>process.exit(1))" "$SOCK"
}

case "${1:-}" in
start)
  if answers; then exit 0; fi
  mkdir -p /run/podman "$CONF_DIR"
  cat >"$CONTAINERS_CONF" <<CONF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
  rm -f "$SOCK"
  setsid podman system service --time=0 "unix://$SOCK" \
    >"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  for _ in $(seq 1 60); do
    if answers; then echo "started podman system service (pid $(cat "$PIDFILE"))"; exit 0; fi
    sleep 0.5
  done
  echo "podman.sh: podman system service did not answer within 30 s; see $LOG" >&2
  exit 1
  ;;
stop)
  [ -f "$PIDFILE" ] || exit 0
  pid=$(cat "$PIDFILE")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
  ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 2
  ;;
esac
