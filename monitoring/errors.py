"""Monitoring's domain errors, each with a stable machine name (see ``ledger.errors``)."""

from __future__ import annotations

from ledger.errors import DomainError


class FlagClosed(DomainError):
    code = "flag_closed"
    title = "The flag is already closed"
    http_status = 409


class InvalidTransition(DomainError):
    code = "invalid_transition"
    title = "That step cannot be taken now"
    http_status = 409


class SecondOfficerRequired(DomainError):
    code = "second_officer_required"
    title = "A different officer must approve this"
    http_status = 403


class ExceedsRecoverable(DomainError):
    code = "exceeds_recoverable"
    title = "More than can be recovered"


class ResponseWindowOpen(DomainError):
    code = "response_window_open"
    title = "The holder still has time to respond"
    http_status = 409


class NoticeNotSent(DomainError):
    code = "notice_not_sent"
    title = "The holder has not been told yet"
    http_status = 409


class AdvocateRequired(DomainError):
    code = "advocate_required"
    title = "The decision waits for an independent advocate"
    http_status = 409


class AdvocacyNotRecorded(DomainError):
    code = "advocacy_not_recorded"
    title = "Record whether the person needs an independent advocate first"
    http_status = 409


class NotPermitted(DomainError):
    code = "not_permitted"
    title = "Your role does not allow this"
    http_status = 403


class LeaseLost(DomainError):
    code = "lease_lost"
    title = "This scheduler no longer holds the lease"
    http_status = 409
