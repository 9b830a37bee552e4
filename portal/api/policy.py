"""The council's rules for real-time authorisation, from its settings.

The composition root's part: monitoring keeps the council settings, the adapters decide,
and neither imports the other. The council's ``blocked_categories`` setting, once the
council has set it, says which categories a real-time decision declines (those it can tell
by merchant category: ``adapters.authorisation.BLOCKABLE_CATEGORIES``); until then the
adapters' default holds (gambling), while monitoring flags its own default list after the
fact.

The settings are read when a decision needs them, in the request's own transaction, and
at most once a request: only a payment whose merchant category some setting could block
asks (``AuthorisationPolicy.blocks``), so most real-time requests read no settings at all,
and a change an officer makes applies from the next request that needs it.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy.orm import Session

from adapters.authorisation import AuthorisationPolicy
from monitoring.repositories import settings as settings_repo

SETTING = "blocked_categories"


def authorisation_policy(session: Session) -> AuthorisationPolicy:
    """The real-time policy for this request, reading the council's stored settings the
    first time a decision asks about a category they could block."""

    @cache
    def read_blocked() -> frozenset[str]:
        return stored_policy(session).blocked_mccs

    return AuthorisationPolicy(read_blocked=read_blocked)


def stored_policy(session: Session) -> AuthorisationPolicy:
    """The policy the council's stored settings say, read now."""
    stored = dict(settings_repo.stored_values(session)).get(SETTING)
    if not isinstance(stored, list):
        return AuthorisationPolicy()
    return AuthorisationPolicy.blocking(str(name) for name in stored)
