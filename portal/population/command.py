"""``dpledger demo generate``: a generated population, and its ground truth."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from ledger.clock import FixedClock
from ledger.db import make_engine, make_session_factory, unit_of_work
from ledger.errors import InvalidRecord
from monitoring.dates import LONDON
from monitoring.runner import run_all
from portal.population import PopulationSpec, generate, score
from portal.population.repository import prefix_used
from portal.population.spec import MAX_MONTHS, MIN_MONTHS


@click.command("generate")
@click.option(
    "--people", type=click.IntRange(1, 200_000), required=True, help="People with a plan."
)
@click.option(
    "--months",
    type=click.IntRange(MIN_MONTHS, MAX_MONTHS),
    default=MIN_MONTHS,
    show_default=True,
    help="Months of history.",
)
@click.option(
    "--seed", type=int, default=1, show_default=True, help="The same seed, the same people."
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day the population is as of, 9am (default: today).",
)
@click.option("--prefix", default="GEN", show_default=True, help="Starts every council reference.")
@click.option(
    "--ground-truth",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write what each monitor must flag to this JSON file.",
)
@click.option(
    "--score/--no-score",
    "run_monitors",
    default=False,
    help="Run every monitor afterwards and print each one's precision and recall.",
)
def generate_command(
    people: int,
    months: int,
    seed: int,
    today: datetime | None,
    prefix: str,
    ground_truth: Path | None,
    run_monitors: bool,
) -> None:
    """Generate PEOPLE people with MONTHS of history through the real services and
    adapters: carers, plans with lines, primary, carer's and companion cards, loads,
    contributions, card spending, bank payments, cash, refunds and reversals, and planted
    cases for every monitor. The same seed (and day) gives the same population.
    """
    day = today.date() if today else datetime.now(LONDON).date()
    try:
        spec = PopulationSpec(people=people, today=day, months=months, seed=seed, ref_prefix=prefix)
    except InvalidRecord as error:
        raise click.BadParameter(error.detail) from error
    engine = make_engine()
    factory = make_session_factory(engine)
    try:
        with unit_of_work(factory) as session:
            if prefix_used(session, prefix):
                raise click.ClickException(
                    f"people with references starting {prefix}- are already here; "
                    "use another --prefix or an empty database"
                )
        made = generate(factory, spec, progress=lambda line: click.echo(f"generate: {line}"))
        click.echo(
            f"generated {made.people:,} people and carers, {made.cards:,} cards, "
            f"{made.events:,} provider events up to {spec.as_of:%Y-%m-%d %H:%M} UTC"
        )
        if made.truth.not_planted:
            click.echo(f"{len(made.truth.not_planted)} planted cases could not happen")
        if ground_truth is not None:
            made.truth.write(ground_truth)
            click.echo(f"ground truth: {ground_truth}")
        if run_monitors:
            with unit_of_work(factory) as session:
                run_all(session, FixedClock(spec.as_of), runner="demo generate")
            with unit_of_work(factory) as session:
                for row in score(session, made.truth):
                    click.echo(
                        f"{row.monitor:22} precision {row.precision:.2f}  recall {row.recall:.2f}"
                        f"  ({row.found} of {row.expected} planted, {row.flagged} flagged)"
                    )
    finally:
        engine.dispose()
