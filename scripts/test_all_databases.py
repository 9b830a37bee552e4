"""Run the whole test suite on SQLite, then on PostgreSQL when one is reachable.

PostgreSQL is DATABASE_URL when it names one, else 127.0.0.1:5432 (user postgres),
where a database ``dpledger_test`` is created if missing. Prints plainly which
databases the suite ran on; exits non-zero if any run failed.
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
        return url.render_as_string(hide_password=False), "DATABASE_URL"
    try:
        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3",
            autocommit=True,
        ) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (TEST_DB,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{TEST_DB}"')
    except psycopg.OperationalError as error:
        return None, f"not reachable at 127.0.0.1:5432 ({str(error).strip().splitlines()[0]})"
    return f"{DEFAULT_PG_SERVER}/{TEST_DB}", "127.0.0.1:5432"


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
