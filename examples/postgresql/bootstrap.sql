-- legacyscan: a PostgreSQL role and database for the central collector (EXAMPLE).
-- docs/collector-service.md.  Run as a superuser (e.g. `sudo -u postgres`):
--
--   psql -v ON_ERROR_STOP=1 -v owner_password="$(openssl rand -base64 24)" \
--        -v reader_password="$(openssl rand -base64 24)" -f examples/postgresql/bootstrap.sql
--
-- Optional variables (defaults in brackets): db [legacyscan], owner [legacyscan],
-- reader [legacyscan_report].  The owner is what `legacyscan serve`, `scan` and `import` connect
-- as (they create and migrate the tables); the reader may only read: give it to reporting tools.
-- Passwords are stored as SCRAM-SHA-256 (password_encryption default since PostgreSQL 14).

\if :{?db}
\else
  \set db legacyscan
\endif
\if :{?owner}
\else
  \set owner legacyscan
\endif
\if :{?reader}
\else
  \set reader legacyscan_report
\endif

SET password_encryption = 'scram-sha-256';
CREATE ROLE :"owner" LOGIN PASSWORD :'owner_password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE ROLE :"reader" LOGIN PASSWORD :'reader_password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE DATABASE :"db" OWNER :"owner" ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"owner", :"reader";

\connect :"db"
-- only the owner creates objects; the reader sees what the owner creates, read-only
REVOKE ALL ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO :"owner";
GRANT USAGE ON SCHEMA public TO :"reader";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT ON TABLES TO :"reader";
