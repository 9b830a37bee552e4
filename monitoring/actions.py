"""Officer actions: suspend and unsuspend a card, an emergency load, escalation to
safeguarding, an unplanned review and its decision. Clawback is in ``monitoring.clawback``.

Every action needs the officer's name and a reason and writes an audit entry (and, when it
comes from a flag, a line in the flag's history). Telling the card provider goes through
``ledger.ports.CardProviderCommands``, passed in by the caller. Services flush; the caller
commits, so the card's new status and the record of telling the provider land together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.clock import Clock
from ledger.errors import InvalidRecord, UnknownRecord
from ledger.models import Account, AccountKind, CardStatus, Plan
from ledger.ports import CardCommand, CardProviderCommands, CommandOutcome
from ledger.service import Ledger
from monitoring import advocacy
from monitoring.audit import record_action, require_officer, require_reason
from monitoring.dates import today
from monitoring.errors import InvalidTransition
from monitoring.flags import Triage
from monitoring.models import (
    EmergencyLoad,
    ReviewRequest,
    ReviewStatus,
    SafeguardingRecord,
    SafeguardingStatus,
)
from monitoring.notifications import Message, enqueue
from monitoring.repositories import cards as cards_repo
from monitoring.settings import load_settings

SOURCE = "monitoring"


@dataclass(frozen=True)
class CardStatusChange:
    card_id: int
    status: CardStatus
    changed: bool  # False when the card already had that status (the provider is told again)
    provider: CommandOutcome


@dataclass(frozen=True)
class EmergencySupport:
    """What an emergency load is for (recorded with it)."""

    kind: str  # "urgent" or "interim"
    purpose: str
    council_amount: int  # loaded now
    person_amount: int  # the person's own contribution towards it
    duration_days: int
    review_how: str
    review_on: date
    outcome_aimed_at: str
    next_steps: str


class OfficerActions:
    def __init__(self, session: Session, clock: Clock, provider: CardProviderCommands) -> None:
        self.session = session
        self.clock = clock
        self.provider = provider
        self.triage = Triage(session, clock)

    # -- cards -----------------------------------------------------------------------------

    def suspend_card(
        self, card_id: int, *, officer: str, reason: str, flag_id: int | None = None
    ) -> CardStatusChange:
        """Block new authorisations on the card at once, and tell the provider."""
        return self._set_card_status(
            card_id, CardStatus.SUSPENDED, CardCommand.SUSPEND, officer, reason, flag_id
        )

    def unsuspend_card(
        self, card_id: int, *, officer: str, reason: str, flag_id: int | None = None
    ) -> CardStatusChange:
        return self._set_card_status(
            card_id, CardStatus.ACTIVE, CardCommand.UNSUSPEND, officer, reason, flag_id
        )

    def _set_card_status(
        self,
        card_id: int,
        status: CardStatus,
        command: CardCommand,
        officer: str,
        reason: str,
        flag_id: int | None,
    ) -> CardStatusChange:
        officer, reason = require_officer(officer), require_reason(reason)
        card = cards_repo.lock(self.session, card_id)
        if card.status is CardStatus.CLOSED:
            raise InvalidTransition(f"card {card_id} is closed", card_id=card_id)
        action = f"card_{command.value}"
        if card.status is status:
            # A retry: the status is already set; tell the provider again with the key of
            # the change that set it (provider commands are safe to repeat by key).
            last = cards_repo.last_status_change(self.session, card_id, action)
            key = f"card-status:{last.id}" if last else f"card-status:{card_id}:{status.value}"
            outcome = self.provider.send(card_id, command, key=key, reason=reason)
            return CardStatusChange(card_id, status, False, outcome)
        before = card.status
        card.status = status
        self.session.flush()
        entry = record_action(
            self.session,
            self.clock,
            actor=officer,
            action=action,
            subject_type="card",
            subject_id=card_id,
            reason=reason,
            before={"status": before.value},
            after={"status": status.value, "flag_id": flag_id},
        )
        outcome = self.provider.send(card_id, command, key=f"card-status:{entry.id}", reason=reason)
        record_action(
            self.session,
            self.clock,
            actor=officer,
            action="provider_told",
            subject_type="card",
            subject_id=card_id,
            reason=reason,
            after={
                "command": command.value,
                "command_id": outcome.command_id,
                "accepted": outcome.accepted,
                "retryable": outcome.retryable,
                "detail": outcome.detail,
            },
        )
        if flag_id is not None:
            self.triage.record(flag_id, officer=officer, action=action, reason=reason)
        return CardStatusChange(card_id, status, True, outcome)

    # -- emergency load ----------------------------------------------------------------------

    def emergency_load(
        self,
        budget_account_id: int,
        support: EmergencySupport,
        *,
        request_key: str,
        officer: str,
        reason: str,
    ) -> EmergencyLoad:
        """Load urgent or interim support at once. ``request_key`` makes a repeated request
        (a double click, a retry) load once."""
        officer, reason = require_officer(officer), require_reason(reason)
        existing = self.session.execute(
            select(EmergencyLoad).where(EmergencyLoad.request_key == request_key)
        ).scalar_one_or_none()
        if existing is not None:
            if (existing.budget_account_id, existing.council_amount) != (
                budget_account_id,
                support.council_amount,
            ):
                raise InvalidRecord("that request key was used for a different emergency load")
            return existing
        _check_support(support, today(self.clock))
        budget = self.session.get(Account, budget_account_id)
        if budget is None or budget.kind is not AccountKind.PERSONAL_BUDGET:
            raise UnknownRecord(f"personal budget {budget_account_id} does not exist")
        assert budget.owner_id is not None
        (transfer, *_) = Ledger(self.session, self.clock).load(
            budget_account_id,
            support.council_amount,
            source=SOURCE,
            key=f"emergency-load:{request_key}",
            emergency=True,
            reference=f"{support.kind} support: {support.purpose}"[:200],
        )
        record = EmergencyLoad(
            request_key=request_key,
            budget_account_id=budget_account_id,
            person_id=budget.owner_id,
            kind=support.kind,
            purpose=support.purpose,
            council_amount=support.council_amount,
            person_amount=support.person_amount,
            duration_days=support.duration_days,
            review_how=support.review_how,
            review_on=support.review_on,
            outcome_aimed_at=support.outcome_aimed_at,
            next_steps=support.next_steps,
            reason=reason,
            loaded_by=officer,
            loaded_at=self.clock.now(),
            transfer_id=transfer.id,
        )
        self.session.add(record)
        self.session.flush()
        card = cards_repo.budget_card(self.session, budget_account_id)
        if card is not None:
            self.provider.send(
                card.id,
                CardCommand.LOAD,
                key=f"emergency-load:{request_key}",
                amount=support.council_amount,
                reason=reason,
            )
        record_action(
            self.session,
            self.clock,
            actor=officer,
            action="emergency_load",
            subject_type="account",
            subject_id=budget_account_id,
            reason=reason,
            after={
                "emergency_load_id": record.id,
                "transfer_id": transfer.id,
                "amount": support.council_amount,
                "kind": support.kind,
            },
        )
        return record

    # -- safeguarding --------------------------------------------------------------------------

    def escalate_to_safeguarding(
        self,
        person_id: int,
        *,
        concern: str,
        officer: str,
        reason: str,
        flag_id: int | None = None,
    ) -> SafeguardingRecord:
        """Raise a safeguarding concern (Care Act s42) in the restricted record; the flag,
        if any, closes as escalated. The audit log says a concern was raised, not what."""
        officer, reason = require_officer(officer), require_reason(reason)
        concern = require_reason(concern)
        record = SafeguardingRecord(
            person_id=person_id,
            flag_id=flag_id,
            concern=concern,
            status=SafeguardingStatus.RAISED,
            raised_by=officer,
            raised_at=self.clock.now(),
        )
        self.session.add(record)
        self.session.flush()
        if flag_id is not None:
            self.triage.mark_escalated(
                flag_id, officer=officer, reason=f"Escalated to safeguarding: {reason}"
            )
        record_action(
            self.session,
            self.clock,
            actor=officer,
            action="safeguarding_concern_raised",
            subject_type="person",
            subject_id=person_id,
            reason=reason,
            after={"safeguarding_record_id": record.id, "flag_id": flag_id},
        )
        settings = load_settings(self.session)
        enqueue(
            self.session,
            self.clock,
            [
                Message(
                    dedupe_key=f"safeguarding|{record.id}",
                    audience="officer",
                    subject="A safeguarding concern has been raised",
                    body=(
                        f"{officer} has raised a safeguarding concern (record {record.id}). "
                        "Please look at it in the safeguarding records."
                    ),
                    cause=f"safeguarding:{record.id}",
                )
            ],
            officer_email=settings.officer_email,
        )
        return record

    # -- reviews ---------------------------------------------------------------------------

    def request_review(
        self,
        plan_id: int,
        *,
        officer: str,
        reason: str,
        due_by: date | None = None,
        flag_id: int | None = None,
    ) -> ReviewRequest:
        """Ask for an unplanned review of a plan (the route for under-spend flags)."""
        officer, reason = require_officer(officer), require_reason(reason)
        plan = self.session.get(Plan, plan_id)
        if plan is None:
            raise UnknownRecord(f"plan {plan_id} does not exist")
        request = ReviewRequest(
            plan_id=plan_id,
            person_id=plan.person_id,
            flag_id=flag_id,
            reason=reason,
            due_by=due_by or today(self.clock) + timedelta(days=28),
            status=ReviewStatus.REQUESTED,
            requested_by=officer,
            requested_at=self.clock.now(),
        )
        self.session.add(request)
        self.session.flush()
        record_action(
            self.session,
            self.clock,
            actor=officer,
            action="review_requested",
            subject_type="plan",
            subject_id=plan_id,
            reason=reason,
            after={"review_request_id": request.id, "due_by": request.due_by.isoformat()},
        )
        if flag_id is not None:
            self.triage.record(flag_id, officer=officer, action="review_requested", reason=reason)
        return request

    def decide_review(
        self,
        review_request_id: int,
        *,
        decision: str,
        officer: str,
        reason: str,
        urgent: bool = False,
    ) -> ReviewRequest:
        """Record the review's decision. Waits for an independent advocate when the
        person needs one, unless urgent (see ``monitoring.advocacy``)."""
        officer, reason = require_officer(officer), require_reason(reason)
        decision = require_reason(decision)
        request = self.session.get(ReviewRequest, review_request_id)
        if request is None:
            raise UnknownRecord(f"review request {review_request_id} does not exist")
        if request.status is not ReviewStatus.REQUESTED:
            raise InvalidTransition(f"the review is already {request.status.value}")
        advocacy.require_settled(
            self.session, request.person_id, f"review:{request.id}", urgent=urgent
        )
        request.status = ReviewStatus.DECIDED
        request.decision, request.decided_by, request.decided_at = (
            decision,
            officer,
            self.clock.now(),
        )
        self.session.flush()
        record_action(
            self.session,
            self.clock,
            actor=officer,
            action="review_decided",
            subject_type="plan",
            subject_id=request.plan_id,
            reason=reason,
            after={"review_request_id": request.id, "decision": decision, "urgent": urgent},
        )
        if request.flag_id is not None:
            # The flag that asked for the review shows what it came to.
            self.triage.record(
                request.flag_id,
                officer=officer,
                action="review_decided",
                reason=reason,
                after={"review_request_id": request.id, "decision": decision},
            )
        return request


def _check_support(support: EmergencySupport, on: date) -> None:
    if support.kind not in ("urgent", "interim"):
        raise InvalidRecord("emergency support is either urgent or interim")
    if isinstance(support.council_amount, bool) or support.council_amount <= 0:
        raise InvalidRecord("the council's amount must be more than zero")
    if support.person_amount < 0:
        raise InvalidRecord("the person's contribution cannot be negative")
    if support.duration_days <= 0:
        raise InvalidRecord("say how long the support lasts, in days")
    if support.review_on < on:
        raise InvalidRecord("the review date cannot be in the past")
    for text in (support.purpose, support.review_how, support.outcome_aimed_at, support.next_steps):
        require_reason(text)
