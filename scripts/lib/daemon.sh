# Helpers shared by scripts/daemons/*.sh (sourced). Each daemon script defines
# PIDFILE, LOG and an `answers` function before calling these.

# Asks a Docker-API socket for /_ping; curl may be missing on a fresh machine, node is always there.
docker_api_answers() {
  [ -S "$1" ] && node -e "require('http').get({socketPath:process.argv[1],path:'/_ping',timeout:2000},(r)=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1)).on('timeout',()=>process.exit(1))" "$1"
}

# daemon_spawn NAME SECONDS COMMAND...: starts COMMAND detached, records its pid,
# and waits until `answers` succeeds; prints "started NAME …" (the harness's cue
# to stop it later) or fails after SECONDS.
daemon_spawn() {
  local name=$1 secs=$2
  shift 2
  setsid "$@" >"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  for _ in $(seq 1 $((secs * 2))); do
    if answers; then
      echo "started $name (pid $(cat "$PIDFILE"))"
      return 0
    fi
    sleep 0.5
  done
  echo "$name did not answer within $secs s; see $LOG" >&2
  return 1
}

# daemon_stop: stops what daemon_spawn started (TERM, then KILL after 30 s).
daemon_stop() {
  [ -f "$PIDFILE" ] || return 0
  local pid
  pid=$(cat "$PIDFILE")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
}
