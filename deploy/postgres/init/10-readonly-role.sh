#!/usr/bin/env bash
# Creates cohort_readonly, the PostgreSQL role SQLPad connects as: it may log in, read every table
# of the public schema (the ones that exist now and the ones migrations create later), and change
# nothing.
#
# The postgres image runs this once, when it initialises an empty data volume (it is mounted into
# /docker-entrypoint-initdb.d by docker-compose.yml), as the superuser POSTGRES_USER. It is safe to
# run again, e.g. on a volume created before this script existed, or to set a new password after
# changing SQLPAD_DB_PASSWORD:
#
#   docker compose exec postgres-db bash /docker-entrypoint-initdb.d/10-readonly-role.sh
#
# The password reaches SQL as a psql variable (:'password' quotes it as a literal), never through
# the shell, so any character is safe in it.
set -eo pipefail

if [[ -z ${SQLPAD_DB_PASSWORD:-} ]]; then
  echo "10-readonly-role.sh: SQLPAD_DB_PASSWORD is not set; cannot create the role cohort_readonly" >&2
  exit 1
fi

psql -v ON_ERROR_STOP=1 --no-psqlrc \
  --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-${POSTGRES_USER:-postgres}}" \
  -v password="$SQLPAD_DB_PASSWORD" -v owner="${POSTGRES_USER:-postgres}" <<'SQL'
-- The role, once; its password set on every run.
select 'create role cohort_readonly' where not exists (select from pg_roles where rolname = 'cohort_readonly')
\gexec
alter role cohort_readonly with login nosuperuser nocreatedb nocreaterole noreplication nobypassrls
  password :'password';

-- Even a mistaken grant later cannot make its sessions write, and no query runs away.
alter role cohort_readonly set default_transaction_read_only = on;
alter role cohort_readonly set statement_timeout = '60s';

-- Read access only: connect, look into the schema, select from tables and views.
select format('grant connect on database %I to cohort_readonly', current_database())
\gexec
grant usage on schema public to cohort_readonly;
grant select on all tables in schema public to cohort_readonly;
-- Tables that migrations create later (they run as the owner, POSTGRES_USER) are readable too.
alter default privileges for role :"owner" in schema public grant select on tables to cohort_readonly;
SQL

echo "10-readonly-role.sh: role cohort_readonly can read the tables of ${POSTGRES_DB:-postgres} and change nothing"
