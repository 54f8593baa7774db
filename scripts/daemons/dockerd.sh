#!/usr/bin/env bash
# Starts dockerd for the engine tests when no Docker daemon answers on
# /var/run/docker.sock; `start` prints a line only when it started one, so the
# test harness knows to `stop` it afterwards. dockerd runs its own managed
# containerd (under /var/run/docker/containerd) because the standalone test
# containerd listens on a non-default socket.
set -euo pipefail
PIDFILE=/run/wirescope-dockerd.pid
LOG=/var/log/wirescope-dockerd.log
SOCK=/var/run/docker.sock

# curl may be missing on a fresh machine; node is always there.
answers() {
  [ -S "$SOCK" ] && node -e "require('http').get({socketPath:process.argv[1],path:'/_ping',timeout:2000},(r)=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1)).on('timeout',()=>process.exit(1))" "$SOCK"
}

case "${1:-}" in
start)
  if answers; then exit 0; fi
  if pgrep -x dockerd >/dev/null; then
    # A dockerd exists but does not answer yet: give it time rather than start a second.
    for _ in $(seq 1 60); do answers && exit 0; sleep 0.5; done
    echo "dockerd.sh: a dockerd runs but $SOCK does not answer" >&2
    exit 1
  fi
  setsid dockerd --host "unix://$SOCK" --pidfile "$PIDFILE.docker" >"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  for _ in $(seq 1 120); do
    if answers; then echo "started dockerd (pid $(cat "$PIDFILE"))"; exit 0; fi
    sleep 0.5
  done
  echo "dockerd.sh: dockerd did not answer within 60 s; see $LOG" >&2
  exit 1
  ;;
stop)
  [ -f "$PIDFILE" ] || exit 0
  pid=$(cat "$PIDFILE")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
  ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 2
  ;;
esac
