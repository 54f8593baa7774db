#!/usr/bin/env bash
# Starts `podman system service` (podman's Docker-compatible and libpod REST
# API) on /run/podman/podman.sock for the engine tests when nothing answers
# there. Without systemd on the test machine, podman runs with the cgroupfs
# manager and the file events backend, and with ulimits a root without
# CAP_SYS_RESOURCE may set; tests point the CLI at the same containers.conf
# (src/engines/testing/image.ts) so the service sees their containers and events.
# `start` prints a line only when it started the service.
set -euo pipefail
source "$(dirname "$0")/../lib/daemon.sh"
SOCK=/run/podman/podman.sock
PIDFILE=/run/wirescope-podman.pid
LOG=/var/log/wirescope-podman.log
CONF_DIR=/run/wirescope-podman
export CONTAINERS_CONF=$CONF_DIR/containers.conf

answers() { docker_api_answers "$SOCK"; }

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
  daemon_spawn "podman system service" 30 podman system service --time=0 "unix://$SOCK"
  ;;
stop)
  daemon_stop
  ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 2
  ;;
esac
