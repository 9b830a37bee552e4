"""Flags: raising them from monitors' hits, and the officers' triage of them.

Raising keeps two promises:
- one open flag per subject and rule: a new hit on an open flag adds evidence and may
  raise its severity (and shorten its SLA), never lower it;
- a hit already recorded (same rule, subject and evidence key) is never recorded again,
  even after its flag was closed, so re-running a monitor raises nothing new.

Triage: assign, review, snooze, note, dismiss (a reason from a fixed list plus free
text), mark actioned. Each needs a reason and appends to the flag's history (who, what,
when, before and after). Closing sets a disposition, so precision per monitor can be
reported. Services flush; the caller commits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ledger.clock import Clock
from ledger.errors import InvalidRecord
from monitoring.audit import require_officer, require_reason
from monitoring.errors import FlagClosed
from monitoring.models import (
    DismissReason,
    Disposition,
    Flag,
    FlagEvidence,
    FlagHistory,
    FlagNote,
    FlagStatus,
    Severity,
    SuggestedAction,
)
from monitoring.notifications import Message, enqueue
from monitoring.repositories import bulk
from monitoring.repositories import flags as repo
from monitoring.settings import MonitoringSettings

SYSTEM = "monitor"
TITLE_MAX = 200  # flags.title, notifications.subject
# flag_evidence.dedupe_key is 300; notifications add "officer|" or "holder|" to it.
DEDUPE_KEY_MAX = 290


def fit(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at most, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Hit:
    """One thing a monitor found, explained in plain English with its evidence."""

    rule: str
    subject_type: str  # "card", "plan", "plan_line", "account", "person"
    subject_id: int
    evidence_key: str  # what makes this hit this hit: a transfer id, a period …
    severity: Severity
    title: str
    explanation: str
    person_id: int | None = None
    transfer_ids: tuple[int, ...] = ()
    figures: Mapping[str, Any] = field(default_factory=dict)
    plan_line_id: int | None = None
    suggested_action: SuggestedAction = SuggestedAction.CHECK
    # A message for the holder (subject, body), sent once for this hit.
    holder_message: tuple[str, str] | None = None
    notify_officer: bool = False

    @property
    def open_key(self) -> str:
        return f"{self.rule}|{self.subject_type}:{self.subject_id}"

    @property
    def dedupe_key(self) -> str:
        """Unique per hit, and short enough for its column with a notification's prefix
        (an evidence key naming a long merchant is shortened by a digest of the whole)."""
        key = f"{self.open_key}|{self.evidence_key}"
        if len(key) <= DEDUPE_KEY_MAX:
            return key
        digest = hashlib.sha256(key.encode()).hexdigest()
        return f"{key[: DEDUPE_KEY_MAX - 49]}#{digest[:48]}"


@dataclass
class RaiseResult:
    hits: int = 0
    new_flags: int = 0
    new_evidence: int = 0
    severity_raised: int = 0
    flag_ids: list[int] = field(default_factory=list)


def raise_flags(
    session: Session,
    clock: Clock,
    settings: MonitoringSettings,
    monitor: str,
    hits: Sequence[Hit],
) -> RaiseResult:
    """Record hits as evidence on flags (see the module docstring for the promises).

    A fixed number of statements whatever the number of hits: the hits are folded into
    each flag's state in memory, then new flags, evidence and history are inserted in
    bulk and the open flags that changed are updated."""
    result = RaiseResult(hits=len(hits))
    seen = repo.existing_evidence_keys(session, [h.dedupe_key for h in hits])
    by_flag: dict[str, list[Hit]] = {}
    for hit in hits:
        if hit.dedupe_key not in seen:
            seen.add(hit.dedupe_key)
            by_flag.setdefault(hit.open_key, []).append(hit)
    if not by_flag:
        return result
    now = clock.now()
    existing = repo.open_flags_by_key(session, sorted(by_flag))
    states: dict[str, _FlagState] = {}
    history: list[tuple[str, str, str, dict[str, Any], dict[str, Any]]] = []
    officer_hits: list[tuple[str, Hit]] = []
    for key, flag_hits in by_flag.items():
        flag = existing.get(key)
        state = _FlagState.of(flag) if flag is not None else None
        for hit in flag_hits:
            if state is None:
                state = _FlagState.new(hit, now, settings)
                history.append((key, "raised", hit.title, {}, state.tracked()))
                result.new_flags += 1
                if hit.severity.rank >= Severity.HIGH.rank or hit.notify_officer:
                    officer_hits.append((key, hit))
                continue
            before = state.tracked()
            if state.add(hit, now, settings):
                result.severity_raised += 1
                officer_hits.append((key, hit))
            elif hit.notify_officer:
                officer_hits.append((key, hit))
            history.append((key, "evidence_added", hit.title, before, state.tracked()))
        assert state is not None
        states[key] = state
        result.new_evidence += len(flag_hits)

    ids = {key: flag.id for key, flag in existing.items()}
    new_keys = [key for key in by_flag if key not in existing]
    if new_keys:
        rows = [states[key].row(monitor, by_flag[key][0], now) for key in new_keys]
        bulk.insert_rows(session, Flag, rows)
        # open_key is unique, so it finds each new flag's id (RETURNING in parameter
        # order would fall back to one INSERT per row on SQLite).
        ids.update(repo.open_flag_ids(session, new_keys))
    for key, flag in existing.items():
        states[key].apply_to(flag, now)
    session.flush()
    bulk.insert_rows(
        session,
        FlagEvidence,
        [
            {
                "flag_id": ids[key],
                "dedupe_key": hit.dedupe_key,
                "severity": hit.severity,
                "explanation": hit.explanation,
                "transfer_ids": list(hit.transfer_ids),
                "figures": dict(hit.figures),
                "plan_line_id": hit.plan_line_id,
                "observed_at": now,
            }
            for key, flag_hits in by_flag.items()
            for hit in flag_hits
        ],
    )
    bulk.insert_rows(
        session,
        FlagHistory,
        [
            _history_row(ids[key], now, SYSTEM, action, reason, before, after)
            for key, action, reason, before, after in history
        ],
    )
    messages = [_officer_message(ids[key], states[key], hit) for key, hit in officer_hits]
    for key, flag_hits in by_flag.items():
        for hit in flag_hits:
            if hit.holder_message is not None and hit.person_id is not None:
                subject, body = hit.holder_message
                messages.append(
                    Message(
                        dedupe_key=f"holder|{hit.dedupe_key}",
                        audience="holder",
                        person_id=hit.person_id,
                        subject=subject,
                        body=body,
                        cause=f"flag:{ids[key]}",
                    )
                )
    enqueue(session, clock, messages, officer_email=settings.officer_email)
    result.flag_ids = sorted(ids[key] for key in by_flag)
    return result


@dataclass
class _FlagState:
    """A flag's triage-relevant state while hits are folded into it."""

    severity: Severity
    sla_due_at: datetime
    hits: int
    explanation: str
    status: FlagStatus = FlagStatus.OPEN
    assignee: str | None = None
    snoozed_until: datetime | None = None
    snooze_reason: str | None = None
    disposition: Disposition | None = None

    @classmethod
    def new(cls, hit: Hit, now: datetime, settings: MonitoringSettings) -> _FlagState:
        return cls(hit.severity, _sla(now, hit.severity, settings), 1, hit.explanation)

    @classmethod
    def of(cls, flag: Flag) -> _FlagState:
        return cls(
            flag.severity,
            flag.sla_due_at,
            flag.hits,
            flag.explanation,
            flag.status,
            flag.assignee,
            flag.snoozed_until,
            flag.snooze_reason,
            flag.disposition,
        )

    def add(self, hit: Hit, now: datetime, settings: MonitoringSettings) -> bool:
        """Fold in a new hit; True when it raised the severity (which ends any snooze)."""
        self.hits += 1
        self.explanation = hit.explanation
        if hit.severity.rank <= self.severity.rank:
            return False
        self.severity = hit.severity
        self.sla_due_at = min(self.sla_due_at, _sla(now, hit.severity, settings))
        self.snoozed_until, self.snooze_reason = None, None
        return True

    def tracked(self) -> dict[str, Any]:
        return _state(self)

    def row(self, monitor: str, first: Hit, now: datetime) -> dict[str, Any]:
        return {
            "monitor": monitor,
            "rule": first.rule,
            "subject_type": first.subject_type,
            "subject_id": first.subject_id,
            "person_id": first.person_id,
            "open_key": first.open_key,
            "severity": self.severity,
            "status": FlagStatus.OPEN,
            "title": fit(first.title, TITLE_MAX),
            "explanation": self.explanation,
            "suggested_action": first.suggested_action,
            "sla_due_at": self.sla_due_at,
            "hits": self.hits,
            "raised_at": now,
            "updated_at": now,
        }

    def apply_to(self, flag: Flag, now: datetime) -> None:
        flag.severity, flag.sla_due_at, flag.hits = self.severity, self.sla_due_at, self.hits
        flag.explanation, flag.updated_at = self.explanation, now
        flag.snoozed_until, flag.snooze_reason = self.snoozed_until, self.snooze_reason


def _sla(now: datetime, severity: Severity, settings: MonitoringSettings) -> datetime:
    return now + timedelta(hours=settings.sla_hours.get(severity.value, 240))


def _officer_message(flag_id: int, state: _FlagState, hit: Hit) -> Message:
    return Message(
        dedupe_key=f"officer|{hit.dedupe_key}",
        audience="officer",
        person_id=None,
        subject=fit(f"Monitoring flag {flag_id} ({state.severity.value}): {hit.title}", TITLE_MAX),
        body=(
            f"{hit.explanation}\n\n"
            f"Severity: {state.severity.value}. Please look at it by "
            f"{state.sla_due_at:%d %B %Y %H:%M} UTC. Flag {flag_id}, rule {hit.rule}."
        ),
        cause=f"flag:{flag_id}",
    )


_TRACKED = ("status", "severity", "assignee", "snoozed_until", "snooze_reason", "disposition")
# Recorded in a history entry when the step sets them (dismissing: the listed reason).
_RECORDED_WHEN_SET = ("dismiss_reason",)


def _state(flag: Flag | _FlagState, also: tuple[str, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in (*_TRACKED, *also):
        value = getattr(flag, name)
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def _history_row(
    flag_id: int,
    now: datetime,
    actor: str,
    action: str,
    reason: str | None,
    before: dict[str, Any],
    after: dict[str, Any],
) -> dict[str, Any]:
    changed = {k for k in after if before.get(k) != after.get(k)} if before else set(after)
    return {
        "flag_id": flag_id,
        "at": now,
        "actor": actor,
        "action": action,
        "reason": reason,
        "before": {k: before[k] for k in changed if k in before},
        "after": {k: after[k] for k in changed},
    }


def _history(
    flag: Flag,
    now: datetime,
    actor: str,
    action: str,
    reason: str | None,
    before: dict[str, Any],
    after: dict[str, Any],
) -> FlagHistory:
    changed = {k for k in after if before.get(k) != after.get(k)} if before else set(after)
    return FlagHistory(
        flag_id=flag.id,
        at=now,
        actor=actor,
        action=action,
        reason=reason,
        before={k: before[k] for k in changed if k in before},
        after={k: after[k] for k in changed},
    )


class Triage:
    """Officers' work on flags. Every step needs a reason and is recorded in history."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    def assign(self, flag_id: int, *, officer: str, assignee: str, reason: str) -> Flag:
        if not assignee.strip():
            raise InvalidRecord("name the officer the flag is assigned to")
        return self._change(flag_id, officer, "assigned", reason, assignee=assignee.strip())

    def start_review(self, flag_id: int, *, officer: str, reason: str) -> Flag:
        flag = self._open(flag_id)
        assignee = flag.assignee or officer
        return self._change(
            flag_id,
            officer,
            "review_started",
            reason,
            status=FlagStatus.IN_REVIEW,
            assignee=assignee,
        )

    def snooze(self, flag_id: int, *, officer: str, until: datetime, reason: str) -> Flag:
        """Hide an open flag from the queue until ``until`` (it stays open)."""
        if until <= self.clock.now():
            raise InvalidRecord("a snooze must end in the future")
        return self._change(
            flag_id, officer, "snoozed", reason, snoozed_until=until, snooze_reason=reason
        )

    def unsnooze(self, flag_id: int, *, officer: str, reason: str) -> Flag:
        return self._change(
            flag_id, officer, "unsnoozed", reason, snoozed_until=None, snooze_reason=None
        )

    def add_note(self, flag_id: int, *, officer: str, text: str) -> FlagNote:
        officer = require_officer(officer)
        text = require_reason(text)
        flag = repo.get(self.session, flag_id)
        now = self.clock.now()
        note = FlagNote(flag_id=flag.id, at=now, author=officer, text=text)
        self.session.add(note)
        self.session.add(_history(flag, now, officer, "note_added", text, {}, {}))
        self.session.flush()
        return note

    def dismiss(self, flag_id: int, *, officer: str, reason: DismissReason, detail: str) -> Flag:
        """Close a flag as not a concern; the reason is from the fixed list, the detail is
        free text (required)."""
        disposition = (
            Disposition.DUPLICATE
            if reason is DismissReason.DUPLICATE
            else Disposition.NOT_CONFIRMED
        )
        # The history records the reason from the list as well as the detail (its reason).
        return self._close(
            flag_id,
            officer,
            "dismissed",
            detail,
            FlagStatus.DISMISSED,
            disposition,
            dismiss_reason=reason,
            dismiss_detail=detail.strip(),
        )

    def mark_actioned(self, flag_id: int, *, officer: str, reason: str) -> Flag:
        return self._close(
            flag_id, officer, "actioned", reason, FlagStatus.ACTIONED, Disposition.CONFIRMED
        )

    def mark_escalated(self, flag_id: int, *, officer: str, reason: str) -> Flag:
        """Close a flag as escalated to safeguarding (see ``actions.escalate_to_safeguarding``)."""
        return self._close(
            flag_id,
            officer,
            "escalated_to_safeguarding",
            reason,
            FlagStatus.ESCALATED_TO_SAFEGUARDING,
            Disposition.CONFIRMED,
        )

    def record(
        self,
        flag_id: int,
        *,
        officer: str,
        action: str,
        reason: str,
        after: dict[str, Any] | None = None,
    ) -> None:
        """Record on a flag's history an action taken elsewhere (a suspension, a review),
        with what it came to (``after``) where there is something to say."""
        flag = repo.get(self.session, flag_id)
        self.session.add(_history(flag, self.clock.now(), officer, action, reason, {}, after or {}))
        self.session.flush()

    def queue(self, *, include_snoozed: bool = False) -> Sequence[Flag]:
        return repo.queue(self.session, self.clock.now(), include_snoozed=include_snoozed)

    # -- helpers -------------------------------------------------------------------------

    def _open(self, flag_id: int) -> Flag:
        flag = repo.get(self.session, flag_id, lock=True)
        if not flag.status.is_open:
            raise FlagClosed(f"flag {flag_id} is {flag.status.value}", flag_id=flag_id)
        return flag

    def _change(self, flag_id: int, officer: str, action: str, reason: str, **changes: Any) -> Flag:
        officer = require_officer(officer)
        reason = require_reason(reason)
        flag = self._open(flag_id)
        recorded = tuple(name for name in _RECORDED_WHEN_SET if name in changes)
        before = _state(flag, recorded)
        for name, value in changes.items():
            setattr(flag, name, value)
        now = self.clock.now()
        flag.updated_at = now
        after = _state(flag, recorded)
        self.session.add(_history(flag, now, officer, action, reason, before, after))
        self.session.flush()
        return flag

    def _close(
        self,
        flag_id: int,
        officer: str,
        action: str,
        reason: str,
        status: FlagStatus,
        disposition: Disposition,
        **also: Any,
    ) -> Flag:
        officer = require_officer(officer)
        now = self.clock.now()
        flag = self._change(
            flag_id,
            officer,
            action,
            reason,
            status=status,
            disposition=disposition,
            open_key=None,
            closed_at=now,
            closed_by=officer,
            snoozed_until=None,
            snooze_reason=None,
            **also,
        )
        return flag


@dataclass(frozen=True)
class Precision:
    monitor: str
    confirmed: int
    not_confirmed: int

    @property
    def precision(self) -> float | None:
        total = self.confirmed + self.not_confirmed
        return self.confirmed / total if total else None


def precision_by_monitor(
    session: Session,
    *,
    closed_from: datetime | None = None,
    closed_before: datetime | None = None,
) -> list[Precision]:
    """For each monitor: closed flags confirmed against dismissed (duplicates left out);
    only those closed in [``closed_from``, ``closed_before``) when given (a month's
    report)."""
    counts: dict[str, dict[Disposition, int]] = {}
    rows = repo.dispositions_by_monitor(
        session, closed_from=closed_from, closed_before=closed_before
    )
    for monitor, disposition, count in rows:
        if disposition is not None:
            counts.setdefault(monitor, {})[disposition] = count
    return [
        Precision(
            monitor,
            by.get(Disposition.CONFIRMED, 0),
            by.get(Disposition.NOT_CONFIRMED, 0),
        )
        for monitor, by in sorted(counts.items())
    ]
