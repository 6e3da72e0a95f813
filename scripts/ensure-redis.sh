#!/usr/bin/env bash
# Makes sure a Redis answers on 127.0.0.1:6379 for the tests: installs Debian's redis-server when it is
# missing, starts it (nothing kept on disk) when it is not running. Idempotent; run by jest's globalSetup,
# so `npm test` and `.ci/run` need no hand steps on a fresh machine.
set -euo pipefail
PORT="${REDIS_TEST_PORT:-6379}"

ping() { redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG; }

if command -v redis-cli >/dev/null 2>&1 && ping; then exit 0; fi

if ! command -v redis-server >/dev/null 2>&1; then
  echo "ensure-redis: installing redis-server (Debian package)" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >&2 || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >&2
fi

echo "ensure-redis: starting redis-server on 127.0.0.1:$PORT" >&2
DIR="${TMPDIR:-/tmp}/usergraph-redis"
mkdir -p "$DIR"
redis-server --daemonize yes --bind 127.0.0.1 --port "$PORT" --save "" --appendonly no --dir "$DIR" --logfile "$DIR/redis.log"
for _ in $(seq 1 50); do
  if ping; then exit 0; fi
  sleep 0.1
done
echo "ensure-redis: redis-server did not answer on 127.0.0.1:$PORT; see $DIR/redis.log" >&2
exit 1
