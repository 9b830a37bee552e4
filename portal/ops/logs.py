"""Structured logging with the standard library (house habit 12).

- Production (``DPLEDGER_ENV=production``, or ``LOG_FORMAT=json``): one JSON object per
  line with ``time``, ``level``, ``logger``, ``message``, ``request_id`` and any extra
  fields given to the log call; ``exception`` when there is one.
- Development: one readable line each, with the request id (or the job's or command's
  run id) when there is one.

Beside a request's id, a line carries the fields of the work it belongs to
(``ledger.log_context``): ``run_id`` for every line of a ``dpledger`` command (set here,
when the command line configures logging), and ``job`` and ``job_run_id`` for every line
written while a scheduler job runs (set by ``monitoring.scheduler``).

Every line goes through ``Redact`` first: a card number (a run of 12 to 19 digits, spaces
or dashes allowed between them as card numbers are written, that passes the Luhn check)
keeps only its last four, a password reset link keeps its path but not its token, and an
extra field named like a password, secret or token is replaced whole. Records that
reach the root logger from any library (werkzeug's own request lines included) are
treated the same, because the filter sits on the handler, not on a logger. The request
line itself names the route with its arguments, never the raw path, and an argument
named like a secret (the reset link's token) is written as ``[redacted]``
(``logged_path``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import g, has_request_context

from ledger.log_context import current_fields, new_run_id, set_process_fields

# 12-19 digits, each optionally followed by one space or dash: a card number when its
# digits pass the Luhn check (``is_card_number``), or a part of them does.
CARD_NUMBER = re.compile(r"(?<!\d)(?:\d[ -]?){11,18}\d(?!\d)")
DIGITS = re.compile(r"\d+")
SENSITIVE_NAME = re.compile(
    r"pass(word|wd|phrase)?|secret|token|authori[sz]ation|cookie|api[_-]?key|credential",
    re.IGNORECASE,
)
REDACTED = "[redacted]"
# A password reset link's token, wherever a line carries one: werkzeug's request line, a
# URL in an error. The request line never has it (``logged_path``); this is the backstop.
RESET_LINK = re.compile(r"(/reset-password/)[^\s/?#\"'<>]+")
# A route's argument: ``<name>`` or ``<converter:name>`` (``<int(min=1):name>``).
ROUTE_ARGUMENT = re.compile(r"<(?:[^<>:]+:)?([^<>:]+)>")

# A client's X-Request-Id is kept when it is a plain token of sensible length.
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")

# Attributes every LogRecord has: anything else on a record is an extra field.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}
# The work a line belongs to (``ledger.log_context``): readable lines show them as an id.
WORK_FIELDS = frozenset({"run_id", "job", "job_run_id"})


def is_card_number(digits: str) -> bool:
    """12 to 19 digits that pass the Luhn check, as every card number (PAN) does."""
    if not 12 <= len(digits) <= 19 or not digits.isdigit():
        return False
    total = 0
    for place, digit in enumerate(int(d) for d in reversed(digits)):
        if place % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def mask_card_numbers(text: str) -> str:
    """Every card number with only its last four digits left: a run of 12-19 digits that
    passes the Luhn check, or else the longest part of it, in whole groups between its
    spaces or dashes, that does ("4111 1111 1111 1111 2"). Other runs (ids, durations,
    amounts) stay as they are; nine in ten of them fail the check."""

    def mask(found: re.Match[str]) -> str:
        run = found.group(0)
        groups = [(g.start(), g.end()) for g in DIGITS.finditer(run)]
        windows = sorted(
            ((i, j) for i in range(len(groups)) for j in range(i, len(groups))),
            key=lambda w: (groups[w[0]][0] - groups[w[1]][1], groups[w[0]][0]),
        )
        for i, j in windows:
            start, end = groups[i][0], groups[j][1]
            digits = "".join(run[a:b] for a, b in groups[i : j + 1])
            if is_card_number(digits):
                return run[:start] + "*" * (len(digits) - 4) + digits[-4:] + run[end:]
        return run

    return CARD_NUMBER.sub(mask, text)


def holds_card_number(text: str) -> bool:
    return mask_card_numbers(text) != text


def mask_secrets(text: str) -> str:
    """Card numbers masked and reset links' tokens replaced: what any logged text becomes."""
    return mask_card_numbers(RESET_LINK.sub(rf"\1{REDACTED}", text))


def logged_path(rule: str, arguments: Mapping[str, Any]) -> str:
    """A request's path as it may be logged: its route (``/cards/<int:card_id>``) with
    each argument filled in (``/cards/7``), except one named like a secret, which is
    ``[redacted]`` (``/reset-password/[redacted]``)."""

    def fill(found: re.Match[str]) -> str:
        name = found.group(1)
        if SENSITIVE_NAME.search(name) or name not in arguments:
            return REDACTED
        return str(arguments[name])

    return ROUTE_ARGUMENT.sub(fill, rule)


def clean(name: str, value: Any) -> Any:
    """A field's value as it may be logged."""
    if SENSITIVE_NAME.search(name):
        return REDACTED
    if isinstance(value, str):
        return mask_secrets(value)
    if isinstance(value, Mapping):
        return {str(k): clean(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(name, v) for v in value]
    if isinstance(value, bool | int | float) or value is None:
        if isinstance(value, int) and not isinstance(value, bool):
            masked = mask_card_numbers(str(value))
            return value if masked == str(value) else masked
        return value
    return mask_secrets(str(value))


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


def new_request_id() -> str:
    """32 hex digits, never with a run of digits that looks like a card number."""
    while True:
        found = secrets.token_hex(16)
        if not holds_card_number(found):
            return found


def sane_request_id(given: str) -> bool:
    """A client's request id is used when it is a plain token that is not a card number."""
    return bool(SANE_REQUEST_ID.fullmatch(given)) and not holds_card_number(given)


def current_request_id() -> str | None:
    if not has_request_context():
        return None
    found: str | None = g.get("request_id")
    return found


class Redact(logging.Filter):
    """Mask card numbers in the message and the extra fields; drop secret fields; stamp
    the record with the request id and the fields of the work it belongs to."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: log what there is
            message = f"{record.msg!r} {record.args!r}"
        record.msg = mask_secrets(message)
        record.args = None
        for name, value in current_fields().items():
            if getattr(record, name, None) is None:
                setattr(record, name, value)
        for name, value in extra_fields(record).items():
            setattr(record, name, clean(name, value))
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for name, value in extra_fields(record).items():
            line.setdefault(name, value)
        if record.exc_info:
            line["exception"] = mask_secrets(self.formatException(record.exc_info))
        elif record.exc_text:
            line["exception"] = mask_secrets(record.exc_text)
        if record.stack_info:
            line["stack"] = mask_secrets(self.formatStack(record.stack_info))
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """A readable line: time, level, logger, [request id, or job and its run id, or the
    command's run id], message, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [
            self.formatTime(record),
            f"{record.levelname:<7}",
            f"{record.name}" + (f" [{work}]" if (work := _work_id(record)) else ""),
            record.getMessage(),
        ]
        message = parts[-1]
        # Extra fields the message does not already say (JSON lines carry them all).
        parts += [
            f"{k}={v}"
            for k, v in extra_fields(record).items()
            if k not in WORK_FIELDS and str(v) not in message
        ]
        # The time and the ids are never masked (none can hold a card number).
        line = " ".join(parts[:3]) + " " + mask_secrets(" ".join(parts[3:]))
        if record.exc_info:
            line += "\n" + mask_secrets(self.formatException(record.exc_info))
        if record.stack_info:
            line += "\n" + mask_secrets(self.formatStack(record.stack_info))
        return line


def _work_id(record: logging.LogRecord) -> str | None:
    request_id = getattr(record, "request_id", None)
    if request_id:
        return str(request_id)
    job, job_run_id = getattr(record, "job", None), getattr(record, "job_run_id", None)
    if job and job_run_id:
        return f"{job} {job_run_id}"
    run_id = getattr(record, "run_id", None)
    return str(run_id) if run_id else None


class StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = sys.stderr
            stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:
            self.handleError(record)


def wants_json(env_name: str, log_format: str | None) -> bool:
    if log_format:
        return log_format.strip().lower() == "json"
    return env_name == "production"


def configure_logging(*, json_lines: bool, level: str | int = "INFO") -> logging.Handler:
    """Install (or replace) dpledger's handler on the root logger. Safe to call again:
    there is only ever one dpledger handler."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, StderrHandler):
            root.removeHandler(handler)
    handler = StderrHandler()
    handler.addFilter(Redact())
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level if isinstance(level, int) else level.upper())
    # Alembic names each of its plugins at INFO on every command.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # APScheduler's executors say "Running job" and "executed successfully" at INFO for
    # every run (the lease's renewal every 10 s among them); each of our jobs logs its own
    # outcome, and the executors' failures are still logged (ERROR).
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
    return handler


def configure_logging_from_env() -> logging.Handler:
    """For the command line: ``DPLEDGER_ENV``, ``LOG_FORMAT`` and ``LOG_LEVEL`` as the app
    reads them, without needing the app's other settings (or its secrets). Every line the
    command writes from now on carries a new ``run_id``."""
    set_process_fields(run_id=new_run_id())
    return configure_logging(
        json_lines=wants_json(
            os.environ.get("DPLEDGER_ENV", "development"), os.environ.get("LOG_FORMAT")
        ),
        level=os.environ.get("LOG_LEVEL") or "INFO",
    )
