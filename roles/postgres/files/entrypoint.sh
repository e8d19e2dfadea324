#!/bin/sh
# Creates the cluster on first start (no password: the role sets it through the local socket), then runs
# PostgreSQL in the foreground with the configuration the role rendered.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  initdb --pgdata="$PGDATA" --username=postgres --encoding=UTF8 --locale=C.UTF-8 \
         --auth-local=peer --auth-host=scram-sha-256
fi
exec postgres -D "$PGDATA" -c config_file=/etc/vixtract/postgres/postgresql.conf "$@"
