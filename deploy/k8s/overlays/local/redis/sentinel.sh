#!/bin/sh
# Start a Sentinel watching the current master (asked of the other Sentinels; redis-0 on first boot).
# Sentinel rewrites its own config file, so it is generated into a writable scratch volume.
set -eu
MASTER=""
for peer in redis-0 redis-1 redis-2; do
  MASTER="$(redis-cli -h "$peer.redis" -p 26379 --raw sentinel get-master-addr-by-name myclothes 2>/dev/null | head -n 1)" || true
  [ -n "$MASTER" ] && break
done
[ -n "$MASTER" ] || MASTER="redis-0.redis"
cat > /conf/sentinel.conf <<CONF
port 26379
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel announce-ip $(hostname).redis
sentinel monitor myclothes $MASTER 6379 2
sentinel auth-pass myclothes $REDIS_PASSWORD
sentinel down-after-milliseconds myclothes 5000
sentinel failover-timeout myclothes 30000
sentinel parallel-syncs myclothes 1
CONF
exec redis-sentinel /conf/sentinel.conf
