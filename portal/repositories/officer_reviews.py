"""Queries for review pages: one review with its person and plan, the audit entries that
say who asked for it and why it was decided as it was, and the review a flag leads to."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.models import Person, Plan
from monitoring.models import AuditEntry, Flag, ReviewRequest, ReviewStatus


def decision_key(review_id: int) -> str:
    """How the advocacy record names a review's decision (``OfficerActions.decide_review``)."""
    return f"review:{review_id}"


def get(session: Session, review_id: int) -> ReviewRequest | None:
    return session.get(ReviewRequest, review_id)


def person_of(session: Session, review: ReviewRequest) -> Person:
    person = session.get(Person, review.person_id)
    assert person is not None  # a foreign key
    return person


def plan_of(session: Session, review: ReviewRequest) -> Plan:
    plan = session.get(Plan, review.plan_id)
    assert plan is not None  # a foreign key
    return plan


def decision_entry(session: Session, review: ReviewRequest) -> AuditEntry | None:
    """The audit entry of the review's decision (it holds the officer's reason)."""
    if review.status is not ReviewStatus.DECIDED:
        return None
    entries = session.execute(
        select(AuditEntry)
        .where(
            AuditEntry.subject_type == "plan",
            AuditEntry.subject_id == review.plan_id,
            AuditEntry.action == "review_decided",
        )
        .order_by(AuditEntry.id.desc())
    ).scalars()
    # A plan has few decided reviews: the one for this review is picked here rather than
    # by a JSON path, which SQLite and PostgreSQL spell differently.
    return next((e for e in entries if e.after.get("review_request_id") == review.id), None)


def review_for_flag(session: Session, flag: Flag) -> ReviewRequest | None:
    """The review a flag leads to: the latest one requested from the flag; else, for a
    flag about a plan, a review of that plan still waiting for its decision."""
    from_flag = session.execute(
        select(ReviewRequest)
        .where(ReviewRequest.flag_id == flag.id)
        .order_by(ReviewRequest.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if from_flag is not None or flag.subject_type != "plan":
        return from_flag
    return session.execute(
        select(ReviewRequest)
        .where(
            ReviewRequest.plan_id == flag.subject_id,
            ReviewRequest.status == ReviewStatus.REQUESTED,
        )
        .order_by(ReviewRequest.id.desc())
        .limit(1)
    ).scalar_one_or_none()
