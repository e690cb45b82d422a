#!/bin/sh
# Least privilege in PostgreSQL (#18 item 2), run once when the data volume is new: Temporal gets its own role,
# allowed to create its two databases (temporal, temporal_visibility) and nothing else; the application gets the
# role `records`, owner of the `records` database only. Neither is a superuser; the superuser's password stays
# with the database's operator.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v temporal_password="$TEMPORAL_DB_PASSWORD" -v records_password="$RECORDS_DB_PASSWORD" <<'SQL'
CREATE ROLE temporal LOGIN CREATEDB NOSUPERUSER NOCREATEROLE PASSWORD :'temporal_password';
CREATE ROLE records LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'records_password';
CREATE DATABASE records OWNER records;
REVOKE ALL ON DATABASE records FROM PUBLIC;
SQL
