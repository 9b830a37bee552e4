"""``dpledger ledger …``: check the books from the command line.

Each command reads in one read-only snapshot (``ledger.db.read_only_snapshot``): its
statements agree with each other while postings go on, and it never blocks them.
"""

from __future__ import annotations

import click

from ledger.chain import verify_chain
from ledger.checks import check_balances
from ledger.db import make_engine, read_only_snapshot


@click.group("ledger")
def ledger_group() -> None:
    """Verify the transfer log and check the books balance."""


@ledger_group.command("verify")
def verify_command() -> None:
    """Recompute the SHA-256 chain over every transfer; name the first broken link.

    Exits 0 when the chain is whole, 1 when it is broken.
    """
    engine = make_engine()
    with read_only_snapshot(engine) as session:
        report = verify_chain(session)
    engine.dispose()
    if report.ok:
        click.echo(f"ok: the chain over {report.transfers_checked} transfers is whole")
        return
    click.echo(f"BROKEN: {report.problem}", err=True)
    click.echo(f"(checked {report.transfers_checked} transfers before the break)", err=True)
    raise SystemExit(1)


@ledger_group.command("check")
def check_command() -> None:
    """Check the trial balance is zero and every account's totals are the fold of its
    transfers. Exits 0 when the books balance, 1 otherwise, listing each problem."""
    engine = make_engine()
    with read_only_snapshot(engine) as session:
        report = check_balances(session)
    engine.dispose()
    if report.ok:
        click.echo(
            f"ok: posted debits = posted credits = {report.posted_debits}p; "
            f"pending {report.pending_debits}p each side; every account matches its transfers"
        )
        return
    for problem in report.problems():
        click.echo(f"PROBLEM: {problem}", err=True)
    raise SystemExit(1)
