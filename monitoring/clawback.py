"""Clawback: recovering surplus from a budget to the council.

    propose  -> (edit down) -> approve -> holder told, response window -> execute
                                                                        \\-> cancel

- proposed from the surplus calculation (``monitoring.surplus``), never more than the
  surplus nor the budget's available balance less the contingency;
- editable down only, at any step before execution;
- above ``clawback_second_approval_above_pence`` a second officer approves, never the
  proposer; approving is a recovery decision, so the advocacy question must be answered
  (``monitoring.advocacy``);
- the holder is sent a notice when it is approved, and has ``clawback_response_days`` to
  respond from the day it was sent: by email (the outbox marks it sent; the
  ``notifications`` job then opens the window, ``record_sent_notices``) or by letter (an
  officer records the date it was posted, ``record_notice_sent``). Until then it cannot
  be executed: a notice only logged (no mail server, no address) is not a notice;
- executed once: a ledger clawback under the stable key ``clawback:<id>`` (a retry after a
  crash returns the same transfer) and a provider unload under its own stable key. It is
  checked again against what is available at the time, so it never overdraws.

Every step needs a reason and is audited. Only surplus flags lead here: under-spend is
routed to a review, never to recovery.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.clock import Clock
from ledger.errors import InvalidAmount, InvalidRecord, UnknownRecord
from ledger.models import Plan
from ledger.ports import CardCommand, CardProviderCommands, CommandOutcome
from ledger.service import Ledger
from monitoring import advocacy, surplus
from monitoring.audit import record_action, require_officer, require_reason
from monitoring.dates import london_date, start_of_day, today
from monitoring.errors import (
    ExceedsRecoverable,
    InvalidTransition,
    NoticeNotSent,
    ResponseWindowOpen,
    SecondOfficerRequired,
)
from monitoring.flags import SYSTEM, Triage
from monitoring.models import ClawbackProposal, ClawbackStatus, Flag, SuggestedAction
from monitoring.monitors.base import long_date, pounds
from monitoring.notifications import Message, enqueue
from monitoring.repositories import cards as cards_repo
from monitoring.repositories import flags as flags_repo
from monitoring.repositories import notifications as notices_repo
from monitoring.repositories import plans as plans_repo
from monitoring.settings import MonitoringSettings, load_settings

SOURCE = "monitoring"
LIVE = (ClawbackStatus.PROPOSED, ClawbackStatus.APPROVED, ClawbackStatus.HOLDER_NOTIFIED)


class Clawbacks:
    def __init__(
        self,
        session: Session,
        clock: Clock,
        provider: CardProviderCommands,
        settings: MonitoringSettings | None = None,
    ) -> None:
        self.session = session
        self.clock = clock
        self.provider = provider
        self.settings = settings or load_settings(session)

    def calculation(self, plan_id: int) -> surplus.SurplusCalculation:
        """The surplus calculation for one plan, as it stands now."""
        rows = plans_repo.surplus_positions(self.session, today(self.clock), 0, plan_id=plan_id)
        if not rows:
            raise UnknownRecord(f"plan {plan_id} is not an active plan")
        return surplus.calculate(rows[0], self.settings)

    def propose(
        self,
        *,
        officer: str,
        reason: str,
        flag_id: int | None = None,
        plan_id: int | None = None,
        amount: int | None = None,
    ) -> ClawbackProposal:
        """Propose recovering surplus, from a surplus flag or for a plan. ``amount``
        defaults to the calculated proposal and may not exceed it."""
        officer, reason = require_officer(officer), require_reason(reason)
        flag: Flag | None = None
        if flag_id is not None:
            flag = flags_repo.get(self.session, flag_id)
            if flag.suggested_action is not SuggestedAction.CLAWBACK:
                raise InvalidRecord(
                    "only a surplus flag can lead to a clawback; this flag suggests "
                    f"{flag.suggested_action.value.replace('_', ' ')}"
                )
            plan_id = flag.subject_id
        if plan_id is None:
            raise InvalidRecord("say which plan (or surplus flag) the clawback is for")
        calc = self.calculation(plan_id)
        amount = calc.proposal if amount is None else amount
        self._check_amount(amount, calc)
        proposal = ClawbackProposal(
            budget_account_id=calc.budget_account_id,
            person_id=calc.person_id,
            flag_id=flag_id,
            amount=amount,
            calculated_amount=calc.proposal,
            items=calc.items(),
            status=ClawbackStatus.PROPOSED,
            live_key=f"budget:{calc.budget_account_id}",
            needs_second_approval=amount > self.settings.clawback_second_approval_above_pence,
            reason=reason,
            proposed_by=officer,
            proposed_at=self.clock.now(),
        )
        if self.session.execute(
            select(ClawbackProposal.id).where(ClawbackProposal.live_key == proposal.live_key)
        ).first():
            raise InvalidTransition("this budget already has a clawback under way")
        self.session.add(proposal)
        self.session.flush()
        self._audit(proposal, officer, "clawback_proposed", reason, {}, {"amount": amount})
        if flag_id is not None:
            Triage(self.session, self.clock).record(
                flag_id, officer=officer, action="clawback_proposed", reason=reason
            )
        return proposal

    def edit_down(
        self, proposal_id: int, amount: int, *, officer: str, reason: str
    ) -> ClawbackProposal:
        officer, reason = require_officer(officer), require_reason(reason)
        proposal = self._get(proposal_id, LIVE)
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise InvalidAmount("a clawback is a whole number of pence, more than zero")
        if amount >= proposal.amount:
            raise InvalidRecord("a clawback can only be edited down")
        before = proposal.amount
        proposal.amount = amount
        self.session.flush()
        self._audit(
            proposal,
            officer,
            "clawback_edited_down",
            reason,
            {"amount": before},
            {"amount": amount},
        )
        return proposal

    def approve(
        self, proposal_id: int, *, officer: str, reason: str, urgent: bool = False
    ) -> ClawbackProposal:
        """Approve, then tell the holder and open their response window. Above the
        threshold the approver must not be the proposer."""
        officer, reason = require_officer(officer), require_reason(reason)
        proposal = self._get(proposal_id, (ClawbackStatus.PROPOSED,))
        if proposal.needs_second_approval and officer == proposal.proposed_by:
            raise SecondOfficerRequired(
                f"a clawback over {pounds(self.settings.clawback_second_approval_above_pence)} "
                "needs a second officer's approval: the proposer cannot approve it"
            )
        advocacy.require_settled(
            self.session, proposal.person_id, f"clawback:{proposal.id}", urgent=urgent
        )
        now = self.clock.now()
        proposal.status = ClawbackStatus.APPROVED
        proposal.approved_by, proposal.approved_at = officer, now
        self._audit(
            proposal,
            officer,
            "clawback_approved",
            reason,
            {"status": "proposed"},
            {"status": "approved", "urgent": urgent},
        )
        # The window opens when the notice is sent, on or after today: the date it gives
        # the holder is never earlier than the one they will have.
        earliest = today(self.clock) + timedelta(days=self.settings.clawback_response_days)
        self.session.flush()
        enqueue(
            self.session,
            self.clock,
            [_notice(proposal, earliest)],
            officer_email=self.settings.officer_email,
        )
        return proposal

    def record_notice_sent(
        self, proposal_id: int, *, sent_on: date, officer: str, reason: str
    ) -> ClawbackProposal:
        """Record that the holder's notice was sent by letter on ``sent_on`` (the email was
        not sent, or they have no email address): the response window counts from then."""
        officer, reason = require_officer(officer), require_reason(reason)
        proposal = self._get(proposal_id, LIVE, lock=True)
        self._notice_sent(proposal)
        if proposal.status is not ClawbackStatus.APPROVED:
            raise InvalidTransition(_not_awaiting_notice(proposal))
        approved_on = london_date(proposal.approved_at) if proposal.approved_at else None
        if sent_on > today(self.clock) or (approved_on is not None and sent_on < approved_on):
            raise InvalidRecord("the letter must have been sent between approval and today")
        sent_at = self.clock.now() if sent_on == today(self.clock) else start_of_day(sent_on)
        self._notified(proposal, sent_at, sent_on, "letter", officer, reason)
        return proposal

    def record_holder_response(
        self, proposal_id: int, response: str, *, officer: str
    ) -> ClawbackProposal:
        officer = require_officer(officer)
        response = require_reason(response)
        proposal = self._get(proposal_id, (ClawbackStatus.APPROVED, ClawbackStatus.HOLDER_NOTIFIED))
        proposal.holder_response = response
        self.session.flush()
        self._audit(proposal, officer, "clawback_holder_responded", response, {}, {})
        return proposal

    def cancel(self, proposal_id: int, *, officer: str, reason: str) -> ClawbackProposal:
        officer, reason = require_officer(officer), require_reason(reason)
        proposal = self._get(proposal_id, LIVE)
        before = proposal.status.value
        proposal.status, proposal.live_key = ClawbackStatus.CANCELLED, None
        self.session.flush()
        self._audit(
            proposal,
            officer,
            "clawback_cancelled",
            reason,
            {"status": before},
            {"status": "cancelled"},
        )
        return proposal

    def execute(self, proposal_id: int, *, officer: str, reason: str) -> ClawbackProposal:
        """Recover the money: once, even when retried. Only once the holder's notice has
        been sent, and then after their response window (from the day it was sent) unless
        they have responded."""
        officer, reason = require_officer(officer), require_reason(reason)
        proposal = self._get(proposal_id, (*LIVE, ClawbackStatus.EXECUTED), lock=True)
        if proposal.status is ClawbackStatus.EXECUTED:
            return proposal
        self._notice_sent(proposal)
        if proposal.status is ClawbackStatus.APPROVED:
            raise NoticeNotSent(_not_awaiting_notice(proposal))
        if proposal.status is not ClawbackStatus.HOLDER_NOTIFIED:
            raise InvalidTransition(
                "a clawback is approved and the holder told before it is executed"
            )
        assert proposal.respond_by is not None
        if proposal.holder_response is None and today(self.clock) <= proposal.respond_by:
            raise ResponseWindowOpen(
                f"the holder has until {long_date(proposal.respond_by)} to respond"
            )
        plan_id = self._plan_of(proposal)
        calc = self.calculation(plan_id)
        if proposal.amount > calc.recoverable:
            raise ExceedsRecoverable(
                f"{pounds(proposal.amount)} is more than can be recovered now "
                f"({pounds(calc.recoverable)}: available less the contingency); edit it down",
                recoverable=calc.recoverable,
            )
        (transfer, *_) = Ledger(self.session, self.clock).clawback(
            proposal.budget_account_id,
            proposal.amount,
            source=SOURCE,
            key=f"clawback:{proposal.id}",
            reference=f"Clawback {proposal.id}",
        )
        card = cards_repo.budget_card(self.session, proposal.budget_account_id)
        if card is not None:
            outcome = self.provider.send(
                card.id,
                CardCommand.UNLOAD,
                key=f"clawback-unload:{proposal.id}",
                amount=proposal.amount,
                reason=reason,
            )
            proposal.provider_command_id = outcome.command_id
            proposal.provider_outcome = outcome.detail[:500]
        proposal.status, proposal.live_key = ClawbackStatus.EXECUTED, None
        proposal.executed_by, proposal.executed_at = officer, self.clock.now()
        proposal.transfer_id = transfer.id
        self.session.flush()
        self._audit(
            proposal,
            officer,
            "clawback_executed",
            reason,
            {"status": "holder_notified"},
            {"status": "executed", "transfer_id": transfer.id, "amount": proposal.amount},
        )
        if proposal.flag_id is not None:
            flag = flags_repo.get(self.session, proposal.flag_id)
            if flag.status.is_open:
                Triage(self.session, self.clock).mark_actioned(
                    flag.id, officer=officer, reason=f"Clawback {proposal.id} executed"
                )
        return proposal

    # -- helpers -------------------------------------------------------------------------

    def _notice_sent(self, proposal: ClawbackProposal) -> None:
        """If the holder's emailed notice has been sent since, open the window now."""
        if proposal.status is not ClawbackStatus.APPROVED:
            return
        sent_at = notices_repo.sent_at(self.session, notice_key(proposal.id))
        if sent_at is not None:
            self._notified(proposal, sent_at, london_date(sent_at), "email", SYSTEM, "emailed")

    def _notified(
        self,
        proposal: ClawbackProposal,
        sent_at: datetime,
        sent_on: date,
        how: str,
        officer: str,
        reason: str,
    ) -> None:
        respond_by = sent_on + timedelta(days=self.settings.clawback_response_days)
        proposal.status = ClawbackStatus.HOLDER_NOTIFIED
        proposal.holder_notified_at, proposal.holder_notified_how = sent_at, how
        proposal.respond_by = respond_by
        self.session.flush()
        self._audit(
            proposal,
            officer,
            "clawback_holder_notified",
            reason,
            {"status": "approved"},
            {"status": "holder_notified", "how": how, "respond_by": respond_by.isoformat()},
        )

    def _check_amount(self, amount: int, calc: surplus.SurplusCalculation) -> None:
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise InvalidAmount("a clawback is a whole number of pence, more than zero")
        if amount > calc.proposal:
            raise ExceedsRecoverable(
                f"{pounds(amount)} is more than the surplus calculation allows "
                f"({pounds(calc.proposal)})",
                proposal=calc.proposal,
            )

    def _get(
        self, proposal_id: int, statuses: tuple[ClawbackStatus, ...], *, lock: bool = False
    ) -> ClawbackProposal:
        query = select(ClawbackProposal).where(ClawbackProposal.id == proposal_id)
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        proposal = self.session.execute(query).scalar_one_or_none()
        if proposal is None:
            raise UnknownRecord(f"clawback {proposal_id} does not exist")
        if proposal.status not in statuses:
            raise InvalidTransition(f"the clawback is {proposal.status.value.replace('_', ' ')}")
        return proposal

    def _plan_of(self, proposal: ClawbackProposal) -> int:
        plan_id = (
            self.session.execute(
                select(Plan.id)
                .where(Plan.budget_account_id == proposal.budget_account_id)
                .order_by(Plan.id.desc())
            )
            .scalars()
            .first()
        )
        if plan_id is None:
            raise UnknownRecord("the budget has no plan")
        return plan_id

    def _audit(
        self,
        proposal: ClawbackProposal,
        officer: str,
        action: str,
        reason: str,
        before: dict[str, Any],
        after: dict[str, Any],
    ) -> None:
        record_action(
            self.session,
            self.clock,
            actor=officer,
            action=action,
            subject_type="clawback",
            subject_id=proposal.id,
            reason=reason,
            before=before,
            after=after,
        )


def record_sent_notices(session: Session, clock: Clock) -> int:
    """Open the response window of every approved clawback whose emailed notice has been
    sent (run after each dispatch by the ``notifications`` job). Returns how many."""
    waiting = notices_repo.approved_clawbacks_with_sent_notice(session)
    if not waiting:
        return 0
    clawbacks = Clawbacks(session, clock, _NoCommands())
    for proposal in waiting:
        clawbacks._notice_sent(proposal)
    return len(waiting)


class _NoCommands:
    """Opening a response window tells the card provider nothing."""

    def send(
        self,
        card_id: int,
        command: CardCommand,
        *,
        key: str,
        amount: int | None = None,
        reason: str | None = None,
    ) -> CommandOutcome:
        raise InvalidTransition("no card command is sent while recording a notice")


def notice_key(proposal_id: int) -> str:
    return f"clawback-notice|{proposal_id}"


def _not_awaiting_notice(proposal: ClawbackProposal) -> str:
    if proposal.status is ClawbackStatus.APPROVED:
        return (
            "the holder's notice has not been sent yet: wait for the email to go, or record "
            "the date a letter was sent"
        )
    sent = proposal.holder_notified_at
    told = f", {long_date(london_date(sent))}" if sent is not None else ""
    return f"the holder was already told ({proposal.holder_notified_how}{told})"


def _notice(proposal: ClawbackProposal, respond_by: date) -> Message:
    body = (
        "Hello,\n\n"
        f"Your direct payment card holds more money than your care and support plan needs "
        f"at the moment. We plan to return {pounds(proposal.amount)} of it to the council, "
        "leaving enough for your care and support, the payments you have coming up, and a "
        "little extra for anything unexpected.\n\n"
        f"If you think this is wrong, or you are saving up for something in your plan, "
        f"please tell us by {long_date(respond_by)}. Nothing will be taken before then, "
        "and we will consider what you tell us.\n\n"
        "With best wishes,\nThe direct payments team"
    )
    return Message(
        dedupe_key=notice_key(proposal.id),
        audience="holder",
        person_id=proposal.person_id,
        subject="About the money on your direct payment card",
        body=body,
        cause=f"clawback:{proposal.id}",
    )
