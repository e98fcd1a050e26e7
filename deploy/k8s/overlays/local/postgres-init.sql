-- One database per service, owned by the services' login role (Docker hosts; the local stack
-- does the same in deploy/stack.py).
CREATE ROLE app LOGIN PASSWORD 'app';
CREATE ROLE audit_writer LOGIN PASSWORD 'audit_writer';
CREATE DATABASE orders OWNER app;
CREATE DATABASE billing OWNER app;
CREATE DATABASE notifier OWNER app;
CREATE DATABASE audit OWNER app;
\c orders
CREATE EXTENSION IF NOT EXISTS pg_trgm;
