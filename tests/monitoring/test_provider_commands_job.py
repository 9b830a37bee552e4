"""The provider_commands job: card-provider commands that failed (the provider was down)
are sent again under their own keys, through the adapters' real outbound commands."""

from __future__ import annotations

from sqlalchemy import select

from adapters.models import CardCommandRecord, CommandStatus
from adapters.outbound import OutboundCommands, ProviderReply
from adapters.simulated import SimulatedProvider
from ledger.ports import CardCommand
from monitoring import commands as monitoring_commands
from monitoring.actions import OfficerActions
from monitoring.notifications import LogSender
from monitoring.scheduler import default_jobs
from tests.monitoring.builders import World
from tests.monitoring.fakes import RecordingProvider


class ProviderDown(SimulatedProvider):
    """The simulated provider, unreachable until ``up`` is set."""

    up: bool = False

    def execute(self, card_token, command, *, key, amount) -> ProviderReply:
        if not self.up:
            raise ConnectionError("provider unreachable")
        return super().execute(card_token, command, key=key, amount=amount)


def job(name, retry_for):
    jobs = default_jobs(lambda session: RecordingProvider(), LogSender(), retry_for=retry_for)
    (found,) = [j for j in jobs if j.name == name]
    return found


def records(session):
    return session.execute(select(CardCommandRecord).order_by(CardCommandRecord.id)).scalars()


def test_a_suspension_the_provider_missed_is_sent_again_by_the_job(session, clock):
    world = World(session, clock)
    case = world.case(load=10000)
    client = ProviderDown(session, clock)
    outbound = OutboundCommands(session, clock, {"simulated": client})
    OfficerActions(session, clock, outbound).suspend_card(
        case.card.id, officer="o1", reason="concern"
    )
    (record,) = records(session)
    assert record.status is CommandStatus.FAILED and "unreachable" in record.provider_reply
    retry = job("provider_commands", lambda s: OutboundCommands(s, clock, {"simulated": client}))
    assert retry.work(session, clock) == "0 carried out, 1 still failing, 0 refused"
    client.up = True
    assert retry.work(session, clock) == "1 carried out, 0 still failing, 0 refused"
    (record,) = records(session)
    assert (record.status, record.attempts) == (CommandStatus.ACCEPTED, 3)
    assert client.cards[case.card.provider_card_token].status == "suspended"
    assert client.commands_seen.keys() == {record.idempotency_key}
    # Nothing left: the next run sends nothing.
    assert retry.work(session, clock) == "0 carried out, 0 still failing, 0 refused"
    assert client.calls == 1 and record.command == CardCommand.SUSPEND.value


def test_without_a_configured_retry_the_job_says_so(session, clock):
    assert "nothing to send again" in job("provider_commands", None).work(session, clock)


def test_the_composition_root_injects_the_retry_beside_the_card_provider(
    session, clock, monkeypatch
):
    monkeypatch.setattr(monitoring_commands, "_retry_factory", None)
    client = SimulatedProvider(session, clock)
    monitoring_commands.use_provider_command_retry(
        lambda s: OutboundCommands(s, clock, {"simulated": client})
    )
    retry = job("provider_commands", monitoring_commands._retry_for)
    assert retry.work(session, clock) == "0 carried out, 0 still failing, 0 refused"
