#!/usr/bin/env bash
# Provisions a local PostgreSQL 15 + PostGIS for gridatlas's tests and benchmarks, idempotently:
#   1. installs postgresql-15 and postgresql-15-postgis-3 (Debian) when they are missing;
#   2. starts cluster 15/main (creating it if needed);
#   3. creates the login role `gridatlas` and the database `gridatlas_template` with PostGIS,
#      from which each test clones its own database (CREATE DATABASE … TEMPLATE gridatlas_template);
#   4. prints the base URL to use as GRIDATLAS_TEST_PG on its last line of standard output.
# Everything it says besides that URL goes to standard error.
# Env: GRIDATLAS_PG_PORT (5432), GRIDATLAS_PG_PASSWORD; GRIDATLAS_PG_CLUSTER (main) and
# GRIDATLAS_PG_DATA (the Debian default) provision another cluster in a directory of your
# choice instead — scripts/bench-field puts one on a RAM disk (BENCH_RAM=1) to measure the
# software without the disk's sync time; a cluster whose directory has gone (a RAM disk after
# a reboot) is dropped and made again.
set -euo pipefail

PGVER=15
CLUSTER=${GRIDATLAS_PG_CLUSTER:-main}
DATA=${GRIDATLAS_PG_DATA:-}
ROLE=gridatlas
PASSWORD=${GRIDATLAS_PG_PASSWORD:-gridatlas}
PORT=${GRIDATLAS_PG_PORT:-5432}
TEMPLATE=gridatlas_template

log() { echo "ensure-postgis: $*" >&2; }

need_install=0
command -v pg_ctlcluster >/dev/null 2>&1 || need_install=1
[ -x "/usr/lib/postgresql/$PGVER/bin/postgres" ] || need_install=1
ls /usr/share/postgresql/$PGVER/extension/postgis.control >/dev/null 2>&1 || need_install=1
if [ "$need_install" = 1 ]; then
    if [ "$(id -u)" != 0 ]; then
        log "PostgreSQL $PGVER / PostGIS missing and not root: install postgresql-$PGVER postgresql-$PGVER-postgis-3"
        exit 1
    fi
    log "installing postgresql-$PGVER and postgresql-$PGVER-postgis-3"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >&2
    apt-get install -y --no-install-recommends "postgresql-$PGVER" "postgresql-$PGVER-postgis-3" >&2
fi

if [ -n "$DATA" ] && pg_lsclusters -h 2>/dev/null | awk -v v="$PGVER" -v c="$CLUSTER" '$1==v && $2==c {print $6}' | grep -q . &&
    [ ! -f "$DATA/PG_VERSION" ]; then
    log "cluster $PGVER/$CLUSTER has lost its directory $DATA: dropping it to make it again"
    pg_dropcluster --stop "$PGVER" "$CLUSTER" >&2 || pg_dropcluster "$PGVER" "$CLUSTER" >&2
fi

if ! pg_lsclusters -h 2>/dev/null | awk '{print $1"/"$2}' | grep -qx "$PGVER/$CLUSTER"; then
    log "creating cluster $PGVER/$CLUSTER${DATA:+ in $DATA}"
    if [ -n "$DATA" ]; then
        mkdir -p "$DATA"
        chown postgres:postgres "$DATA"
        pg_createcluster "$PGVER" "$CLUSTER" --port "$PORT" -d "$DATA" >&2
    else
        pg_createcluster "$PGVER" "$CLUSTER" --port "$PORT" >&2
    fi
fi

if ! pg_lsclusters -h | awk -v v="$PGVER" -v c="$CLUSTER" '$1==v && $2==c {print $4}' | grep -q online; then
    log "starting cluster $PGVER/$CLUSTER"
    pg_ctlcluster "$PGVER" "$CLUSTER" start >&2
fi
PORT=$(pg_lsclusters -h | awk -v v="$PGVER" -v c="$CLUSTER" '$1==v && $2==c {print $3}')

psql_su() { runuser -u postgres -- psql -p "$PORT" -v ON_ERROR_STOP=1 -qAt "$@"; }

for _ in $(seq 1 50); do
    psql_su -c 'select 1' >/dev/null 2>&1 && break
    sleep 0.2
done

if [ "$(psql_su -c "select 1 from pg_roles where rolname = '$ROLE'")" != 1 ]; then
    log "creating role $ROLE"
    psql_su -c "create role $ROLE login createdb password '$PASSWORD'" >&2
fi

if [ "$(psql_su -c "select 1 from pg_database where datname = '$TEMPLATE'")" != 1 ]; then
    log "creating template database $TEMPLATE with PostGIS"
    psql_su -c "create database $TEMPLATE owner $ROLE" >&2
    psql_su -d "$TEMPLATE" -c "create extension if not exists postgis" >&2
    psql_su -d "$TEMPLATE" -c "alter schema public owner to $ROLE" >&2
    psql_su -c "alter database $TEMPLATE with is_template true" >&2
fi

echo "postgres://$ROLE:$PASSWORD@localhost:$PORT"
