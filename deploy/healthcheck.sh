#!/bin/bash
# The image's health check: GET /healthz of the service on $WIRESCOPE_LISTEN
# (default 127.0.0.1:5000), healthy on 200. A wildcard listener (0.0.0.0,
# [::]) is asked on 127.0.0.1, a name the service's Host check admits.
# bash's /dev/tcp rather than node: Docker runs this every 2 s, and a Node.js
# start costs ~160 ms of CPU each time, bash next to none. bash is Essential
# in Debian, so every Debian base has it.
set -u
listen=${WIRESCOPE_LISTEN:-127.0.0.1:5000}
host=${listen%:*}
port=${listen##*:}
case $host in 0.0.0.0 | '[::]' | :: | '') host=127.0.0.1 ;; esac
addr=${host#[}
addr=${addr%]}
exec 3<>"/dev/tcp/$addr/$port" || exit 1
printf 'GET /healthz HTTP/1.0\r\nHost: %s:%s\r\nConnection: close\r\n\r\n' "$host" "$port" >&3
# The status line: "HTTP/1.1 200 OK".
read -r -t 4 _ code _ <&3 || exit 1
[ "$code" = 200 ]
