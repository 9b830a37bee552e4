"""The approvals queue: clawbacks waiting for a senior officer's approval, and those
approved and waiting for the holder's response window to close before they are executed.

Who may approve is decided by the clawback service (never the proposer above the
threshold; the advocacy question answered first) and by role here: only senior officers
approve. ``approval_check`` says which of these stands in the way, so each page can show
why an officer cannot approve rather than only refusing when they try.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template

from ledger.money import format_pence
from monitoring.dates import today
from monitoring.errors import NotPermitted
from monitoring.models import AdvocacyNeed, ClawbackProposal, ClawbackStatus
from monitoring.settings import load_settings
from portal.app import clock, db_session
from portal.auth.access import signed_in_user
from portal.models import Role, User
from portal.officer.views import officer_pages
from portal.repositories import officer_clawbacks as clawbacks_repo


@dataclass(frozen=True)
class ApprovalCheck:
    can_approve: bool
    reasons: list[str]  # why not, or what approving needs (such as "urgent")
    needs_urgent: bool  # an advocate is needed and not yet appointed


def approval_check(
    proposal: ClawbackProposal, viewer: User, need: AdvocacyNeed | None, threshold: int
) -> ApprovalCheck:
    reasons: list[str] = []
    if viewer.role is not Role.SENIOR_OFFICER:
        reasons.append("Only a senior officer can approve a clawback.")
    if proposal.needs_second_approval and proposal.proposed_by == viewer.email:
        reasons.append(
            f"You proposed it: a clawback over {format_pence(threshold)} needs a second "
            "officer's approval."
        )
    if need is None:
        reasons.append("Record whether the person needs an independent advocate first.")
    needs_urgent = bool(
        need is not None and need.needs_advocate and need.advocate_appointed_at is None
    )
    blocked = bool(reasons)
    if needs_urgent:
        reasons.append(
            "The person needs an independent advocate: approving waits until one is "
            "appointed, unless it is urgent."
        )
    return ApprovalCheck(not blocked, reasons, needs_urgent)


def require_senior_officer(viewer: User) -> None:
    """Approving is a senior officer's decision (the clawback service checks the rest)."""
    if viewer.role is not Role.SENIOR_OFFICER:
        raise NotPermitted(
            "only a senior officer can approve a clawback: you are signed in as an officer"
        )


@officer_pages.get("/approvals")
def approvals() -> str:
    session = db_session()
    viewer = signed_in_user()
    threshold = load_settings(session).clawback_second_approval_above_pence
    waiting = clawbacks_repo.queue(session, [ClawbackStatus.PROPOSED])
    checks = {
        row.proposal.id: approval_check(row.proposal, viewer, row.advocacy, threshold)
        for row in waiting
    }
    notified = clawbacks_repo.queue(
        session, [ClawbackStatus.APPROVED, ClawbackStatus.HOLDER_NOTIFIED]
    )
    return render_template(
        "officer/approvals/queue.html",
        waiting=waiting,
        checks=checks,
        notified=notified,
        threshold=threshold,
        today=today(clock()),
    )
