"""Domain errors. Each has a stable machine name (``code``) that the API maps once to
RFC 9457 problem JSON and the pages map to GOV.UK error summaries.

A card's status is not an error here: ``authorise`` records a decline with the reason
``card_suspended`` or ``card_closed`` (so a retry gets the same answer), and the facts a
provider reports are recorded whatever the card's status.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """Something the caller asked for that the rules do not allow. Nothing was changed."""

    code: ClassVar[str] = "domain_error"
    title: ClassVar[str] = "The request could not be carried out"
    http_status: ClassVar[int] = 422

    def __init__(self, detail: str, **context: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.context = context


class InvalidAmount(DomainError):
    code = "invalid_amount"
    title = "The amount is not valid"


class InsufficientFunds(DomainError):
    code = "insufficient_funds"
    title = "Not enough money available"


class AccountClosed(DomainError):
    code = "account_closed"
    title = "The account is closed"


class SameAccount(DomainError):
    code = "same_account"
    title = "A transfer needs two different accounts"


class UnknownRecord(DomainError):
    code = "not_found"
    title = "No such record"
    http_status = 404


class IdempotencyConflict(DomainError):
    code = "idempotency_conflict"
    title = "The idempotency key was already used for a different request"


class HoldAlreadyResolved(DomainError):
    code = "hold_already_resolved"
    title = "The hold was already posted, voided or expired"
    http_status = 409


class NotAHold(DomainError):
    code = "not_a_hold"
    title = "The transfer is not a pending hold"


class ExceedsHoldTolerance(DomainError):
    code = "exceeds_hold_tolerance"
    title = "The amount is more than the hold allows"


class AlreadyReversed(DomainError):
    code = "already_reversed"
    title = "The transfer has already been reversed"
    http_status = 409


class NotReversible(DomainError):
    code = "not_reversible"
    title = "The transfer cannot be reversed"


class InvalidRecord(DomainError):
    code = "invalid_record"
    title = "The record is not valid"


class HoldOfAnotherCard(InvalidRecord):
    code = "hold_of_another_card"
    title = "The hold belongs to another card"


class LedgerWriteFailed(DomainError):
    """The database refused a posting's statements after every check had passed (a row
    written outside the ledger, a value too long for its column, a lost connection). The
    transaction may hold part of the posting: it cannot be committed (``HalfWrittenPosting``)
    and must be rolled back, or the savepoint around the posting rolled back. The driver's
    error is the ``__cause__``."""

    code = "ledger_write_failed"
    title = "The ledger could not write the posting"
    http_status = 500


class HalfWrittenPosting(RuntimeError):
    """A commit (or a savepoint's release) was asked for after ``LedgerWriteFailed`` in
    the same transaction, which may hold part of a posting: the totals without their
    transfers, or a transfer beyond the chain head. Roll it back instead. A bug in the
    caller, not a request to refuse: it is not a ``DomainError``."""

    code: ClassVar[str] = "half_written_posting"


class TransferIsImmutable(RuntimeError):
    """Code tried to change or delete a transfer, which the ledger never does (a mistake
    is undone by a reversing transfer). A bug to fix, not a request to refuse: it is not
    a ``DomainError``, so it surfaces as a server error rather than a 4xx answer."""

    code: ClassVar[str] = "transfer_is_immutable"
