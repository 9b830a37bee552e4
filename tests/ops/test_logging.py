"""Structured logs: a request id on every line of a request, a run id on every line of a
command and of each scheduler job, JSON lines in production, never a card number or a
secret."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ledger import log_context
from ledger.clock import FixedClock
from ledger.log_context import log_fields, new_run_id
from monitoring.notifications import Message, enqueue
from portal.cli import main
from portal.ops.logs import (
    JsonFormatter,
    Redact,
    TextFormatter,
    configure_logging,
    logged_path,
    mask_card_numbers,
    mask_secrets,
    wants_json,
)
from tests.ops.conftest import Ops

GENERATED = re.compile(r"^[0-9a-f]{32}$")


def _json_lines(err: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


def test_a_sane_request_id_is_sent_back(ops: Ops) -> None:
    response = ops.client().get("/health", headers={"X-Request-Id": "lb-7f3a.91:2"})
    assert response.headers["X-Request-Id"] == "lb-7f3a.91:2"


@pytest.mark.parametrize(
    "given",
    [None, "", "short", "has spaces in it", "x" * 200, "bad\u00e9character1", "4111111111111111"],
)
def test_otherwise_one_is_made(ops: Ops, given: str | None) -> None:
    headers = {"X-Request-Id": given} if given is not None else {}
    first = ops.client().get("/health", headers=headers).headers["X-Request-Id"]
    second = ops.client().get("/health", headers=headers).headers["X-Request-Id"]
    assert GENERATED.match(first) and GENERATED.match(second)
    assert first != second


def test_every_line_of_a_request_carries_its_id(
    ops: Ops, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(json_lines=True)

    @ops.app.get("/test-logs")
    def logs_something() -> str:
        logging.getLogger("dpledger.test").info("inside the request")
        return "ok"

    capsys.readouterr()
    ops.client().get("/test-logs", headers={"X-Request-Id": "request-12345"})
    lines = _json_lines(capsys.readouterr().err)
    mine = [line for line in lines if line["request_id"] == "request-12345"]
    assert {line["logger"] for line in mine} >= {"dpledger.test", "dpledger.requests"}
    finished = next(line for line in mine if line["logger"] == "dpledger.requests")
    assert finished["route"] == "/test-logs"
    assert finished["status"] == 200
    assert finished["method"] == "GET"


def test_a_json_line_has_its_fields_and_no_card_number_or_secret(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(json_lines=True)
    logging.getLogger("dpledger.test").warning(
        "card %s declined",
        "4111 1111 1111 1111",
        extra={
            "password": "hunter2",
            "api_token": "tok_live_abc",
            "pan": "5555555555554444",
            "card_id": 42,
            "details": {"client_secret": "s3", "note": "paid 4000-0566-5566-5556"},
        },
    )
    (line,) = _json_lines(capsys.readouterr().err)
    assert set(line) >= {"time", "level", "logger", "message", "request_id"}
    assert line["level"] == "WARNING"
    assert line["logger"] == "dpledger.test"
    assert line["request_id"] is None  # no request
    assert str(line["time"]).endswith("+00:00")
    assert line["message"] == "card ************1111 declined"
    assert line["password"] == "[redacted]"
    assert line["api_token"] == "[redacted]"
    assert line["pan"] == "************4444"
    assert line["card_id"] == 42
    assert line["details"] == {"client_secret": "[redacted]", "note": "paid ************5556"}
    assert "4111" not in json.dumps(line).replace("************1111", "")


def test_exceptions_are_masked_too(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(json_lines=True)
    try:
        raise ValueError("bad card 4242424242424242")
    except ValueError:
        logging.getLogger("dpledger.test").exception("failed")
    (line,) = _json_lines(capsys.readouterr().err)
    assert "ValueError: bad card ************4242" in str(line["exception"])
    assert "4242424242424242" not in json.dumps(line)


def test_the_schedulers_executors_say_only_what_went_wrong(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(json_lines=True)
    executors = logging.getLogger("apscheduler.executors.lease")
    executors.info('Running job "Lease.renew"')  # every 10 s: not worth a line
    executors.error('Job "Lease.renew" raised an exception')
    logging.getLogger("monitoring.scheduler").info("job inbox_replay: 0 replayed")
    lines = [(line["logger"], line["message"]) for line in _json_lines(capsys.readouterr().err)]
    assert lines == [
        ("apscheduler.executors.lease", 'Job "Lease.renew" raised an exception'),
        ("monitoring.scheduler", "job inbox_replay: 0 replayed"),
    ]


def test_readable_lines_in_development(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(json_lines=False)
    logging.getLogger("dpledger.test").info("card 4111111111111111", extra={"secret": "x"})
    err = capsys.readouterr().err
    assert "INFO    dpledger.test card ************1111 secret=[redacted]" in err
    assert not err.startswith("{")


def test_the_formatters_directly() -> None:
    record = logging.LogRecord("t", logging.INFO, "x.py", 1, "pan %s", ("378282246310005",), None)
    Redact().filter(record)
    assert json.loads(JsonFormatter().format(record))["message"] == "pan ***********0005"
    assert TextFormatter().format(record).endswith("pan ***********0005")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("12345678901", "12345678901"),  # 11 digits: not a card number
        ("123456789015", "********9015"),  # 12, passing the Luhn check
        ("1234567890123456785", "***************6785"),  # 19, passing it
        ("12345678901234567890", "12345678901234567890"),  # 20: not one either
        # Runs of 12 to 19 digits that fail the Luhn check, as every card number passes it.
        ("123456789012", "123456789012"),
        ("1234567890123456789", "1234567890123456789"),
        ("4111111111111112", "4111111111111112"),
        # A request line: a flag's id, the status and a duration make one run of digits.
        ("GET /officer/flags/123456 200 663.0ms", "GET /officer/flags/123456 200 663.0ms"),
        # A card number with more digits beside it is still found, in whole groups.
        ("4111 1111 1111 1111 2", "************1111 2"),
        ("ref 12 4111-1111-1111-1111", "ref 12 ************1111"),
        ("Amex 3782 822463 10005.", "Amex ***********0005."),
        ("on 2026-04-06 at 09:00", "on 2026-04-06 at 09:00"),
        ("transfer 12 of £1,234.56", "transfer 12 of £1,234.56"),
    ],
)
def test_what_counts_as_a_card_number(text: str, masked: str) -> None:
    assert mask_card_numbers(text) == masked


@pytest.mark.parametrize(
    ("rule", "arguments", "logged"),
    [
        ("/cards/<int:card_id>", {"card_id": 7}, "/cards/7"),
        (
            "/cards/<int(min=1):card_id>/statements/<int:n>.csv",
            {"card_id": 7, "n": 2},
            "/cards/7/statements/2.csv",
        ),
        ("/reset-password/<token>", {"token": "abc-DEF_123"}, "/reset-password/[redacted]"),
        (
            "/x/<string:api_key>/<secret>",
            {"api_key": "k", "secret": "s"},
            "/x/[redacted]/[redacted]",
        ),
        ("/officer/", {}, "/officer/"),
    ],
)
def test_the_request_line_names_the_route_with_no_secret_argument(
    rule: str, arguments: dict[str, object], logged: str
) -> None:
    assert logged_path(rule, arguments) == logged


def test_a_reset_link_in_any_line_loses_its_token(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(json_lines=False)
    logging.getLogger("werkzeug").info(
        '127.0.0.1 - - "GET /reset-password/Zx9_-kQ HTTP/1.1" 200 -',
        extra={"url": "https://dp.example.gov.uk/reset-password/Zx9_-kQ?x=1"},
    )
    err = capsys.readouterr().err
    assert '"GET /reset-password/[redacted] HTTP/1.1" 200' in err
    assert "url=https://dp.example.gov.uk/reset-password/[redacted]?x=1" in err
    assert "Zx9" not in err
    assert mask_secrets("/reset-password/[redacted]") == "/reset-password/[redacted]"


def test_json_in_production_or_when_asked() -> None:
    assert wants_json("production", None)
    assert wants_json("production", "")
    assert not wants_json("production", "text")
    assert wants_json("development", "json")
    assert not wants_json("development", None)


def test_the_app_logs_json_lines_in_production_config(
    ops: Ops, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal.app import create_app
    from portal.config import TestConfig

    monkeypatch.setenv("LOG_FORMAT", "json")
    app = create_app(TestConfig(), sessions=ops.sessions, clock=ops.clock)
    capsys.readouterr()
    app.test_client().get("/health", headers={"X-Request-Id": "json-request-1"})
    lines = _json_lines(capsys.readouterr().err)
    assert any(line["request_id"] == "json-request-1" for line in lines)


# -- commands and scheduler jobs ------------------------------------------------------------

RUN_ID = re.compile(r"^[0-9a-f]{16}$")


def test_readable_lines_name_the_job_run_or_the_command_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(json_lines=False)
    log_context.set_process_fields(run_id="c0ffee00c0ffee00")
    logger = logging.getLogger("dpledger.test")
    logger.info("outside any job")
    with log_fields(job="hold_expiry", job_run_id="0a1b2c3d4e5f6a7b"):
        logger.info("3 holds expired")
    err = capsys.readouterr().err
    assert "INFO    dpledger.test [c0ffee00c0ffee00] outside any job\n" in err
    assert "INFO    dpledger.test [hold_expiry 0a1b2c3d4e5f6a7b] 3 holds expired\n" in err
    assert "run_id=" not in err and "job_run_id=" not in err


def test_a_request_id_and_a_run_id_are_both_on_a_json_line(
    ops: Ops, capsys: pytest.CaptureFixture[str]
) -> None:
    """``dpledger serve`` is a command too: its requests' lines carry both."""
    configure_logging(json_lines=True)
    log_context.set_process_fields(run_id="c0ffee00c0ffee00")
    capsys.readouterr()
    ops.client().get("/health", headers={"X-Request-Id": "request-67890"})
    (line,) = [
        x for x in _json_lines(capsys.readouterr().err) if x["logger"] == "dpledger.requests"
    ]
    assert (line["request_id"], line["run_id"]) == ("request-67890", "c0ffee00c0ffee00")
    assert "job" not in line


def test_run_ids_never_look_like_card_numbers() -> None:
    ids = {new_run_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(RUN_ID.match(i) and mask_card_numbers(i) == i for i in ids)


def test_every_line_of_a_command_and_of_each_job_carries_its_ids(
    engine: Engine, committed: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``dpledger scheduler --once``: one run id on every line of the command; each job's
    lines, and the lines of the services it calls, carry the job and a run id of its own."""
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("LOG_FORMAT", "json")
    with committed() as session:
        message = Message("ops-log-test", "officer", "Hello", "A message", cause="test")
        enqueue(session, FixedClock(datetime.now(UTC) - timedelta(minutes=5)), [message],
                officer_email="team@example.org")  # fmt: skip
        session.commit()

    def run() -> list[dict[str, object]]:
        result = CliRunner().invoke(main, ["scheduler", "--once", "--holder", "ops-test:1:abcd"])
        assert result.exit_code == 0, result.output
        return _json_lines(result.stderr)

    lines = run()
    (run_id,) = {line["run_id"] for line in lines}
    assert RUN_ID.match(str(run_id))
    jobs = [
        line
        for line in lines
        if line["logger"] == "monitoring.scheduler" and str(line["message"]).startswith("job ")
    ]
    assert {"notifications", "monitor:surplus", "scheduled_loads"} <= {j["job"] for j in jobs}
    assert len({j["job_run_id"] for j in jobs}) == len(jobs)
    assert all(RUN_ID.match(str(j["job_run_id"])) for j in jobs)
    (dispatch,) = [j for j in jobs if j["job"] == "notifications"]
    (sent,) = [line for line in lines if line["logger"] == "monitoring.notifications"]
    assert (sent["job"], sent["job_run_id"]) == ("notifications", dispatch["job_run_id"])
    lease = next(line for line in lines if "holds the lease" in str(line["message"]))
    assert "job" not in lease and lease["run_id"] == run_id  # outside any job

    (second,) = {line["run_id"] for line in run()}
    assert second != run_id  # another command, another run
