#!/bin/sh
# Start Redis: replicate whichever node the Sentinels name as master; on first boot redis-0 is the master.
set -eu
SELF="$(hostname).redis"
MASTER=""
for peer in redis-0 redis-1 redis-2; do
  MASTER="$(redis-cli -h "$peer.redis" -p 26379 --raw sentinel get-master-addr-by-name myclothes 2>/dev/null | head -n 1)" || true
  [ -n "$MASTER" ] && break
done
if [ -z "$MASTER" ] && [ "$(hostname)" != "redis-0" ]; then
  MASTER="redis-0.redis"
fi
cat > /conf/redis.conf <<CONF
port 6379
dir /data
appendonly yes
requirepass $REDIS_PASSWORD
masterauth $REDIS_PASSWORD
replica-announce-ip $SELF
repl-diskless-sync-delay 0
CONF
if [ -n "$MASTER" ] && [ "$MASTER" != "$SELF" ]; then
  echo "replicaof $MASTER 6379" >> /conf/redis.conf
fi
exec redis-server /conf/redis.conf
