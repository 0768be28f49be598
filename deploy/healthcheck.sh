#!/usr/bin/env bash
# Container health check: exits 0 when the service answers 200 on
# /health/ready. Uses bash's /dev/tcp, so the image needs no HTTP client.
#
#   healthcheck [port] [path]   (default: $HEALTHCHECK_PORT, /health/ready)
set -euo pipefail
port=${1:-${HEALTHCHECK_PORT:?HEALTHCHECK_PORT is not set}}
path=${2:-/health/ready}
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$path" >&3
read -r -t 2 _ status _ <&3
[[ $status == 200 ]]
