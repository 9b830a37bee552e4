"""The council's rules for real-time authorisation, from its settings.

The composition root's part: monitoring keeps the council settings, the adapters decide,
and neither imports the other. The council's ``blocked_categories`` setting, once the
council has set it, says which categories a real-time decision declines (those it can tell
by merchant category: ``adapters.authorisation.BLOCKABLE_CATEGORIES``); until then the
adapters' default holds (gambling), while monitoring flags its own default list after the
fact.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from adapters.authorisation import AuthorisationPolicy
from monitoring.repositories import settings as settings_repo

SETTING = "blocked_categories"


def authorisation_policy(session: Session) -> AuthorisationPolicy:
    """The real-time policy for this request, from the council's stored settings."""
    stored = dict(settings_repo.stored_values(session)).get(SETTING)
    if not isinstance(stored, list):
        return AuthorisationPolicy()
    return AuthorisationPolicy.blocking(str(name) for name in stored)
