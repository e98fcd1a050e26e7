"""Who may log in to which database: least privilege, one definition for the local stack, the
tests and (copied by hand) ``postgres-init.sql``.

Each service has its own runtime login, which owns nothing: it gets the rights on its tables
the owner grants. The owner only migrates (``<SERVICE>_MIGRATION_DATABASE_URL``). Only a
database's own logins may connect to it: CONNECT is revoked from PUBLIC. The audit database
has an owner of its own, so ``app`` (which migrates orders, billing and notifier) can neither
connect to it nor disable its triggers; its runtime login ``audit_writer`` gets from the
audit migrations only what appending to a journal needs. The other runtime logins get every
row right (not DDL) on whatever their owner creates, through default privileges."""

from __future__ import annotations

OWNERS = {"orders": "app", "billing": "app", "notifier": "app", "audit": "audit_owner"}
RUNTIME = {
    "orders": "orders_service",
    "billing": "billing_service",
    "notifier": "notifier_service",
    "audit": "audit_writer",
}


def create_role(name: str) -> str:
    """A login role whose password is its name (local stack and tests: loopback only), once."""
    return f"""
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}') THEN
        CREATE ROLE {name} LOGIN PASSWORD '{name}';
    END IF;
END $$"""


def cluster_statements(service: str, database: str) -> list[str]:
    """As a superuser, in any database, once the database exists: who may connect."""
    owner, runtime = OWNERS[service], RUNTIME[service]
    return [
        f'ALTER DATABASE "{database}" OWNER TO {owner}',
        f'REVOKE CONNECT, TEMPORARY ON DATABASE "{database}" FROM PUBLIC',
        f'GRANT CONNECT, TEMPORARY ON DATABASE "{database}" TO {runtime}',
    ]


def database_statements(service: str) -> list[str]:
    """As a superuser, in the service's database: what its runtime login may do there."""
    owner, runtime = OWNERS[service], RUNTIME[service]
    statements = [
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        f"GRANT USAGE ON SCHEMA public TO {runtime}",
        # A database made before its owner changed: the owner takes its objects along.
        adopt(owner),
    ]
    if service == "audit":  # its migrations grant the writer each right it needs, no more
        return statements
    rights = "SELECT, INSERT, UPDATE, DELETE"
    return [
        *statements,
        f"GRANT {rights} ON ALL TABLES IN SCHEMA public TO {runtime}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {runtime}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public"
        f" GRANT {rights} ON TABLES TO {runtime}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public"
        f" GRANT USAGE, SELECT ON SEQUENCES TO {runtime}",
    ]


def adopt(owner: str) -> str:
    """Tables (with their sequences) and functions of the public schema someone else owns
    become ``owner``'s."""
    return f"""
DO $$ DECLARE found record; BEGIN
    FOR found IN SELECT c.oid::regclass AS name FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
              AND pg_get_userbyid(c.relowner) <> '{owner}' LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO {owner}', found.name);
    END LOOP;
    FOR found IN SELECT p.oid::regprocedure AS name FROM pg_proc p
            JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> '{owner}'
              AND p.prokind = 'f' AND NOT EXISTS (SELECT FROM pg_depend d
                  WHERE d.objid = p.oid AND d.deptype = 'e') LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO {owner}', found.name);
    END LOOP;
END $$"""


def init_sql() -> str:
    """``postgres-init.sql``, the same setup for a fresh cluster on a Docker host."""
    lines = [
        "-- Roles and databases on Docker hosts, as deploy/roles.py defines them (the local",
        "-- stack applies the same in deploy/stack.py). Written by `python -m deploy.roles`.",
    ]
    lines += [
        f"CREATE ROLE {role} LOGIN PASSWORD '{role}';"
        for role in sorted({*OWNERS.values(), *RUNTIME.values()})
    ]
    for name, owner in OWNERS.items():
        lines.append(f"CREATE DATABASE {name} OWNER {owner};")
        lines += [f"{statement};" for statement in cluster_statements(name, name)[1:]]
    for name in OWNERS:
        lines.append(f"\\c {name}")
        # A fresh cluster has nothing to adopt.
        lines += [f"{s};" for s in database_statements(name) if not s.lstrip().startswith("DO")]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from pathlib import Path

    (Path(__file__).parent / "postgres-init.sql").write_text(init_sql())
