"""``dpledger``: the one command-line entry point, with a sub-command per job."""

from __future__ import annotations

import os
from datetime import datetime

import click

from adapters.commands import import_command, inbox_group
from ledger.clock import SystemClock
from ledger.commands import ledger_group
from ledger.db import database_url, make_engine, make_session_factory, unit_of_work
from monitoring.commands import (
    monitors_group,
    scheduler_command,
    use_card_provider,
    use_provider_command_retry,
)
from portal.api.commands import api_group, clients_group
from portal.auth.commands import users_group
from portal.ops.logs import configure_logging_from_env
from portal.population.command import generate_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """dpledger: the prepaid-card direct-payment ledger.

    The database is DATABASE_URL, or a SQLite file in instance/ when it is unset.
    """
    configure_logging_from_env()
    _use_card_provider()
    _use_adapter_jobs()


def _use_card_provider() -> None:
    """Monitoring's jobs and commands tell the card provider through the adapters, with
    the same clients as the web app (portal/providers.py)."""
    from portal.providers import ProviderSettings, provider_factory

    settings = ProviderSettings.from_env(os.environ.get("DPLEDGER_ENV", "development"))
    factory = provider_factory(settings, SystemClock())
    use_card_provider(factory)
    # The scheduler's provider_commands job sends again what the provider did not take.
    use_provider_command_retry(factory)


def _use_adapter_jobs() -> None:
    """The scheduler also applies provider events nobody applied (adapters/inbox.py):
    every minute, and once at start-up like every job."""
    from sqlalchemy.orm import Session

    from adapters.inbox import replay_unapplied
    from ledger.clock import Clock
    from monitoring.commands import use_jobs
    from monitoring.scheduler import Job

    def inbox_replay(session: Session, clock: Clock) -> str:
        report = replay_unapplied(session, clock)
        done = ", ".join(f"{n} {status.value}" for status, n in sorted(report.outcomes.items()))
        return f"{report.total} replayed ({done or 'none waiting'}), {len(report.failed)} failed"

    use_jobs([Job("inbox_replay", inbox_replay, every_seconds=60)])


@main.group("db")
def db_group() -> None:
    """Create and migrate the database schema."""


@db_group.command("upgrade")
@click.option("--revision", default="heads", show_default=True, help="Alembic revision.")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (the latest by default)."""
    from ledger.migrate import upgrade

    engine = make_engine()
    upgrade(engine, revision)
    engine.dispose()
    click.echo(f"database at {revision}: {_safe_url()}")


@main.group("demo")
def demo_group() -> None:
    """Demo data for trying dpledger out."""


@demo_group.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has people.")
@click.option(
    "--people",
    default=250,
    show_default=True,
    type=click.IntRange(0, 5000),
    help="Generated people beside the case studies, so the officers have a queue.",
)
@click.option("--seed", default=2026, show_default=True, help="The generated people's seed.")
def demo_load(if_empty: bool, people: int, seed: int) -> None:
    """Load the demo: the four case studies (eight people, seven cards, ten weeks), a few
    hundred generated people, and the monitors run once; then print the sign-ins (with
    --if-empty, those the database has when it is left as it is)."""
    from monitoring.dates import LONDON
    from portal.demo import demo_exists, load_full_demo
    from portal.demo.sign_ins import existing_sign_in_lines

    engine = make_engine()
    factory = make_session_factory(engine)
    try:
        with unit_of_work(factory) as session:
            if demo_exists(session):
                if if_empty:
                    click.echo("demo: the database already has people; left as it is")
                    for line in existing_sign_in_lines(session):
                        click.echo(f"demo: {line}")
                    return
                raise click.ClickException("the database already has people; use an empty one")
        today = datetime.now(LONDON).date()
        lines = load_full_demo(
            factory, today, people=people, seed=seed, progress=lambda p: click.echo(f"demo: {p}")
        )
        for line in lines:
            click.echo(f"demo: {line}")
    finally:
        engine.dispose()


@demo_group.command("sign-ins")
def demo_sign_ins() -> None:
    """Print the demo's sign-ins that the database has, and their demo-only password."""
    from portal.demo.sign_ins import existing_sign_in_lines

    engine = make_engine()
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            for line in existing_sign_in_lines(session):
                click.echo(line)
    finally:
        engine.dispose()


demo_group.add_command(generate_command)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="The port to listen on.")
@click.option(
    "--with-scheduler",
    is_flag=True,
    help="Run the scheduler's jobs in this process too, under its database lease (the demo; "
    "production runs `dpledger scheduler` on its own).",
)
def serve(host: str, port: int, with_scheduler: bool) -> None:
    """Run the web app with the development server (use gunicorn wsgi:app in production)."""
    from portal.app import create_app
    from portal.scheduler_thread import start_scheduler_thread

    app = create_app()
    running = start_scheduler_thread() if with_scheduler else None
    if running is not None:
        click.echo(f"the scheduler runs in this process too ({running.holder})")
    click.echo(f"dpledger is running: open http://{host}:{port}/ (Ctrl+C to stop)")
    try:
        app.run(host=host, port=port, debug=False, use_reloader=False)
    finally:
        if running is not None:
            running.stop()


def _safe_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(database_url()).render_as_string(hide_password=True)


main.add_command(ledger_group)
main.add_command(import_command)
main.add_command(inbox_group)
main.add_command(monitors_group)
main.add_command(scheduler_command)
main.add_command(users_group)
main.add_command(clients_group)
main.add_command(api_group)
