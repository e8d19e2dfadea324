#!/bin/sh
# check-config.sh FILE: fails, with PostgreSQL's own message naming the setting, when PostgreSQL would refuse
# FILE as its postgresql.conf. Run as root in a throw-away container (the role's template validation), never
# against the live server: `postgres -C` reads the whole file and exits without starting a server.
set -eu
dir=$(mktemp -d)
cp "$1" "$dir/postgresql.conf"
mkdir "$dir/data"
chown -R postgres:postgres "$dir"
exec runuser -u postgres -- postgres -D "$dir/data" -c config_file="$dir/postgresql.conf" -C shared_buffers
