"""Notifications: an outbox written in the same transaction as what caused it, and a
dispatcher that sends by SMTP when one is configured (and logs the message otherwise),
retrying with back-off.

Delivery is at least once: a message sent just before its transaction failed to commit
is sent again on the next run (under the scheduler the dispatcher commits every few
messages, so that is at most those few). Messages are plain, respectful English.
"""

from __future__ import annotations

import logging
import os
import smtplib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Protocol

from sqlalchemy.orm import Session

from ledger.clock import Clock
from monitoring.checkpoints import commit_point
from monitoring.models import Notification, NotificationStatus
from monitoring.repositories import bulk
from monitoring.repositories import notifications as repo

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6


@dataclass(frozen=True)
class Message:
    """A message to send: to the holder (``person_id``), to the monitoring team, or to
    the address given (``to_address``: a sign-in's password reset email)."""

    dedupe_key: str
    audience: str  # "holder", "officer" or "sign_in"
    subject: str
    body: str
    cause: str
    person_id: int | None = None
    to_address: str | None = None


def enqueue(
    session: Session, clock: Clock, messages: Sequence[Message], *, officer_email: str | None
) -> int:
    """Add messages to the outbox (flushing, not committing); a message whose dedupe key
    is already there is left out. Holders' addresses are looked up in one query.
    Returns how many were added."""
    if not messages:
        return 0
    existing = repo.existing_keys(session, [m.dedupe_key for m in messages])
    emails = repo.emails_of(session, {m.person_id for m in messages if m.person_id is not None})
    now = clock.now()
    rows: list[dict[str, object]] = []
    for message in messages:
        if message.dedupe_key in existing:
            continue
        existing.add(message.dedupe_key)
        address = message.to_address
        if address is None:
            if message.audience == "officer":
                address = officer_email
            elif message.person_id is not None:
                address = emails.get(message.person_id)
        rows.append(
            {
                "dedupe_key": message.dedupe_key,
                "audience": message.audience,
                "person_id": message.person_id,
                "to_address": address,
                "subject": message.subject,
                "body": message.body,
                "cause": message.cause,
                "status": NotificationStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    # Rows, not objects: a flag wave can add tens of thousands (repositories.bulk).
    bulk.insert_rows(session, Notification, rows)
    return len(rows)


class Sender(Protocol):
    """Sends one email; raises on failure."""

    def send(self, to_address: str, subject: str, body: str) -> None: ...


class LogSender:
    """No mail server configured: messages are written to the log for the team to see."""

    sends_mail = False

    def send(self, to_address: str, subject: str, body: str) -> None:
        log.info(
            "notification (not emailed, no SMTP configured) to=%s subject=%s", to_address, subject
        )


@dataclass(frozen=True)
class SmtpSender:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    sends_mail = True

    def send(self, to_address: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to_address
        message["Subject"] = subject
        message.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


def sender_from_environment() -> LogSender | SmtpSender:
    """SMTP when ``DPLEDGER_SMTP_HOST`` is set (with ``_PORT``, ``_FROM``, ``_USER``,
    ``_PASSWORD``, ``_STARTTLS``), else the log."""
    host = os.environ.get("DPLEDGER_SMTP_HOST")
    if not host:
        return LogSender()
    return SmtpSender(
        host=host,
        port=int(os.environ.get("DPLEDGER_SMTP_PORT", "587")),
        sender=os.environ.get("DPLEDGER_SMTP_FROM", "direct-payments@localhost"),
        username=os.environ.get("DPLEDGER_SMTP_USER"),
        password=os.environ.get("DPLEDGER_SMTP_PASSWORD"),
        starttls=os.environ.get("DPLEDGER_SMTP_STARTTLS", "1") != "0",
    )


@dataclass(frozen=True)
class DispatchResult:
    sent: int
    logged: int
    retrying: int
    failed: int


def dispatch(
    session: Session, clock: Clock, sender: Sender, *, batch: int = 200, per_commit: int = 10
) -> DispatchResult:
    """Send the outbox's due messages (up to ``batch``). A failure is retried later (1, 2,
    4 … minutes), up to ``MAX_ATTEMPTS``; then the message is marked failed for an officer
    to see.

    Every ``per_commit`` messages is a commit point (``monitoring.checkpoints``): under the
    scheduler what was sent is committed there, so a failure later in the run cannot roll
    back a sent message's status and have it sent again. Elsewhere it is all one
    transaction, the caller's."""
    now = clock.now()
    sent = logged = retrying = failed = 0
    emails = getattr(sender, "sends_mail", True)
    done = 0
    while done < batch:
        messages = repo.due(session, now, min(per_commit, batch - done))
        if not messages:
            break
        for message in messages:
            done += 1
            if message.to_address is None or not emails:
                LogSender().send(
                    message.to_address or "(no address on file)", message.subject, message.body
                )
                message.status, message.sent_at = NotificationStatus.LOGGED, now
                logged += 1
                continue
            try:
                sender.send(message.to_address, message.subject, message.body)
            except Exception as error:  # any failure of the mail server is retried
                message.attempts += 1
                message.last_error = str(error)[:500]
                if message.attempts >= MAX_ATTEMPTS:
                    message.status = NotificationStatus.FAILED
                    failed += 1
                else:
                    message.next_attempt_at = now + timedelta(minutes=2 ** (message.attempts - 1))
                    retrying += 1
                continue
            message.attempts += 1
            message.status, message.sent_at = NotificationStatus.SENT, now
            sent += 1
        commit_point(session)
    session.flush()
    return DispatchResult(sent, logged, retrying, failed)


def pending(session: Session) -> Iterable[Notification]:
    return repo.due(session, None, 1000)
