"""The ledger's settings come from one place, ``ledger.settings.from_environment()``: the
hold over-post tolerance is set by ``DPLEDGER_HOLD_OVER_POST_TOLERANCE_PERCENT``, a value
it cannot use is refused naming the variable (and stops the web app at start), and the
callers that post card payments use it.
"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from adapters.apply import EventApplier
from adapters.payments import CardPaymentEvents
from ledger.card_payments import CardPayments
from ledger.clock import FixedClock
from ledger.errors import ExceedsHoldTolerance
from ledger.settings import OVER_POST_TOLERANCE_VARIABLE, InvalidLedgerSetting, from_environment
from portal import config as portal_config
from tests import factories


@pytest.mark.parametrize(
    ("value", "percent"), [(None, 20), ("", 20), (" ", 20), ("0", 0), ("35", 35), ("100", 100)]
)
def test_the_tolerance_is_read_from_the_environment(value: str | None, percent: int) -> None:
    env = {} if value is None else {OVER_POST_TOLERANCE_VARIABLE: value}
    assert from_environment(env).over_post_tolerance_percent == percent


@pytest.mark.parametrize("value", ["twenty", "-5", "12.5", "101", "20%", "\u0663"])
def test_a_tolerance_it_cannot_use_is_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(InvalidLedgerSetting, match=OVER_POST_TOLERANCE_VARIABLE):
        from_environment({OVER_POST_TOLERANCE_VARIABLE: value})


def test_the_web_app_refuses_to_start_with_a_bad_tolerance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(OVER_POST_TOLERANCE_VARIABLE, "35")
    assert portal_config.config_from_env().LEDGER_SETTINGS.over_post_tolerance_percent == 35
    monkeypatch.setenv(OVER_POST_TOLERANCE_VARIABLE, "lots")
    with pytest.raises(portal_config.ConfigError, match=OVER_POST_TOLERANCE_VARIABLE):
        portal_config.config_from_env()


def test_posting_a_hold_follows_the_tolerance_from_the_environment(
    session: Session, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, budget, card = factories.budget_with_card(session, clock, loaded=10_000)
    monkeypatch.setenv(OVER_POST_TOLERANCE_VARIABLE, "50")
    ledger = CardPayments(session, clock, from_environment())
    hold = ledger.authorise(card.id, 1000, source="test", key="a").hold_id
    assert hold is not None
    with pytest.raises(ExceedsHoldTolerance):
        ledger.post_hold(hold, 1501, source="test", key="too-much")
    ledger.post_hold(hold, 1500, source="test", key="post")  # 20% would refuse it
    assert ledger.balances(budget.id).posted == 10_000 - 1500


def test_the_callers_that_clear_card_payments_use_the_environment(
    session: Session, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(OVER_POST_TOLERANCE_VARIABLE, "35")
    events = CardPaymentEvents(session, clock, provider="simulated")
    applier = EventApplier(session, clock, provider="simulated")
    assert events.ledger.settings.over_post_tolerance_percent == 35
    assert applier.ledger.settings.over_post_tolerance_percent == 35
    assert applier.payments.ledger.settings.over_post_tolerance_percent == 35
