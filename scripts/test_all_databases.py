"""Run the whole test suite on SQLite, then on PostgreSQL when one is reachable.

PostgreSQL is DATABASE_URL when it names one, else 127.0.0.1:5432 (user postgres),
where a database ``dpledger_test`` is created if missing. The suite drops the schema of
the database it runs on, so when DATABASE_URL names a database without "test" in its
name (perhaps a real one), the suite runs on ``<name>_test`` on the same server instead,
created if missing, and says so. Prints plainly which databases the suite ran on; exits
non-zero if any run failed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

DEFAULT_PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
TEST_DB = "dpledger_test"


def postgres_url() -> tuple[str | None, str]:
    """The PostgreSQL URL to test on, or None with the reason it is not reachable."""
    import psycopg
    from sqlalchemy.engine import make_url

    named = os.environ.get("DATABASE_URL", "")
    if named.startswith("postgres"):
        url = make_url(named).set(drivername="postgresql+psycopg")
        name = url.database or ""
        if is_test_database(name):
            return url.render_as_string(hide_password=False), "DATABASE_URL"
        test_name = f"{name}_test"
        server = url.set(drivername="postgresql", database="postgres")
        where = f"{url.host or 'localhost'}:{url.port or 5432}"
        try:
            create_if_missing(server.render_as_string(hide_password=False), test_name)
        except psycopg.Error as error:
            return None, f"could not create {test_name} at {where} ({_first_line(error)})"
        print(
            f"DATABASE_URL names the database {name!r}, which has no 'test' in its name: "
            f"the suite drops the schema of the database it runs on, so it runs on "
            f"{test_name!r} on the same server ({where}) instead, created if missing. "
            f"{name!r} is not touched.",
            flush=True,
        )
        test_url = url.set(database=test_name).render_as_string(hide_password=False)
        return test_url, f"{test_name} at {where}, instead of DATABASE_URL's {name}"
    try:
        create_if_missing(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3", TEST_DB
        )
    except psycopg.OperationalError as error:
        return None, f"not reachable at 127.0.0.1:5432 ({_first_line(error)})"
    return f"{DEFAULT_PG_SERVER}/{TEST_DB}", "127.0.0.1:5432"


def is_test_database(name: str) -> bool:
    """Whether a database's name says it is for tests (the suite wipes it)."""
    return "test" in name.lower()


def create_if_missing(server: str, database: str) -> None:
    """Create ``database`` on the server ``server`` (a libpq connection string) unless it
    exists."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(server, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def run(label: str, url: str, extra: list[str]) -> int:
    print(f"\n=== tests on {label} ===", flush=True)
    env = dict(os.environ, DATABASE_URL=url)
    return subprocess.call([sys.executable, "-m", "pytest", *extra], env=env)


def main() -> int:
    extra = sys.argv[1:]
    results: list[tuple[str, int | None, str]] = []
    with tempfile.TemporaryDirectory(prefix="dpledger-test-") as tmp:
        code = run("SQLite", f"sqlite:///{tmp}/test.db", extra)
        results.append(("SQLite", code, "a temporary file"))
    pg, where = postgres_url()
    if pg is None:
        results.append(("PostgreSQL", None, where))
    else:
        results.append(("PostgreSQL", run(f"PostgreSQL ({where})", pg, extra), where))

    print("\n=== databases tested ===")
    for name, code, where in results:
        if code is None:
            print(f"  {name}: NOT RUN, {where}")
        else:
            print(f"  {name} ({where}): {'passed' if code == 0 else f'FAILED (exit {code})'}")
    return max((code or 0) for _, code, _ in results)


if __name__ == "__main__":
    sys.exit(main())
