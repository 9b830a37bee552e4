"""Fields every log line of the current piece of work carries, whoever writes the line:
the run id of a ``dpledger`` command (the whole process), and the name and run id of a
scheduler job (the thread running it). The log handler (``portal/ops/logs.py``) stamps
them on each record, so a job's lines and the lines of the services it calls can be
followed together, as a request's are by its request id.

Standard library only: every layer may set fields here.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_process: dict[str, str] = {}
# (name, value) pairs, later ones winning: immutable, so a context never changes another's.
_current: ContextVar[tuple[tuple[str, str], ...]] = ContextVar("dpledger_log_fields", default=())


def new_run_id() -> str:
    """16 hex digits, never with 12 decimal digits in a row (the log handler would take
    them for a card number and mask them)."""
    while True:
        found = secrets.token_hex(8)
        if not re.search(r"\d{12}", found):
            return found


def set_process_fields(**fields: str) -> None:
    """Fields for every line this process writes from now on (a command's run id)."""
    _process.clear()
    _process.update(fields)


def current_fields() -> dict[str, str]:
    """The process's fields, then the current context's (which win)."""
    return {**_process, **dict(_current.get())}


@contextmanager
def log_fields(**fields: str) -> Iterator[None]:
    """Add fields to every line written in this context (this thread, until the block
    ends): a scheduler job's name and run id."""
    token = _current.set((*_current.get(), *fields.items()))
    try:
        yield
    finally:
        _current.reset(token)
