#!/bin/sh
# Init container: postgres-0 is the primary; any other pod starts as a streaming hot standby cloned from it.
set -eu
case "$(hostname)" in
  postgres-0) exit 0 ;;
esac
if [ -s "$PGDATA/PG_VERSION" ]; then
  exit 0
fi
export PGPASSWORD="$REPLICATION_PASSWORD"
until pg_isready -h postgres-0.postgres -p 5432 -q; do sleep 2; done
pg_basebackup -h postgres-0.postgres -p 5432 -U replicator -D "$PGDATA" -R -X stream -c fast
chmod 0700 "$PGDATA"
