#!/usr/bin/env bash
# Starts dockerd for the engine tests when no Docker daemon answers on
# /var/run/docker.sock; `start` prints a line only when it started one, so the
# test harness knows to `stop` it afterwards. dockerd runs its own managed
# containerd (under /var/run/docker/containerd) because the standalone test
# containerd listens on a non-default socket.
set -euo pipefail
source "$(dirname "$0")/../lib/daemon.sh"
PIDFILE=/run/wirescope-dockerd.pid
LOG=/var/log/wirescope-dockerd.log
SOCK=/var/run/docker.sock

answers() { docker_api_answers "$SOCK"; }

case "${1:-}" in
start)
  if answers; then exit 0; fi
  if pgrep -x dockerd >/dev/null; then
    # A dockerd exists but does not answer yet: give it time rather than start a second.
    for _ in $(seq 1 60); do answers && exit 0; sleep 0.5; done
    echo "dockerd.sh: a dockerd runs but $SOCK does not answer" >&2
    exit 1
  fi
  daemon_spawn dockerd 60 dockerd --host "unix://$SOCK" --pidfile "$PIDFILE.docker"
  ;;
stop)
  daemon_stop
  ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 2
  ;;
esac
