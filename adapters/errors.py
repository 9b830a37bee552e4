"""The adapters' domain errors, each with a stable machine name (see ``ledger.errors``)."""

from __future__ import annotations

from ledger.errors import DomainError


class SignatureInvalid(DomainError):
    """The request is not from the provider (or was altered, or is too old to trust)."""

    code = "signature_invalid"
    title = "The request signature could not be verified"
    http_status = 400


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    title = "The request's credentials were missing or wrong"
    http_status = 401


class MalformedPayload(DomainError):
    """The body is not the provider's format: not JSON, or fields missing or wrong."""

    code = "malformed_payload"
    title = "The payload could not be read"
    http_status = 400


class UnknownCard(DomainError):
    code = "unknown_card"
    title = "No card with that provider token"
    http_status = 404


class CurrencyNotSupported(DomainError):
    code = "currency_not_supported"
    title = "Only GBP card accounts are supported"


class CardStatusMismatch(DomainError):
    """The provider reports a card status the ledger does not have: an officer decides."""

    code = "card_status_mismatch"
    title = "The provider's card status differs from the ledger's"
    http_status = 409


class NotSupported(DomainError):
    code = "not_supported"
    title = "The event cannot be applied to this kind of card"
