"""Statements per plan period, as CSV (for spreadsheets) and PDF (to print or keep).

Both show the ledger's statement: posted movements with effect in the period, with the
opening balance, a running balance and the closing balance. Holds still waiting to settle
are not on a statement; they are on the payments page.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from fpdf import FPDF
from fpdf.fonts import FontFace

from ledger.money import format_pence
from ledger.service import Statement
from portal.holder.periods import LONDON, Period


@dataclass(frozen=True)
class StatementHeading:
    council_name: str
    service_name: str
    card_text: str  # "Primary card ending 4303"
    account_text: str  # "Personal budget: Margaret Hughes"
    period: Period


def _pounds(pence: int) -> str:
    """Plain decimal pounds for spreadsheets: 1234.56, -12.00."""
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    return f"{sign}{pounds}.{rest:02d}"


def _cell(text: str) -> str:
    """Keep a spreadsheet from running a merchant's name as a formula (CSV injection)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _date(at: datetime) -> str:
    return at.astimezone(LONDON).date().isoformat()


def statement_csv(statement: Statement, heading: StatementHeading) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Date", "Description", "Money in", "Money out", "Balance"])
    writer.writerow(
        [
            heading.period.starts_on.isoformat(),
            "Opening balance",
            "",
            "",
            _pounds(statement.opening_balance),
        ]
    )
    for line in statement.lines:
        writer.writerow(
            [
                _date(line.effective_at),
                _cell(line.description),
                _pounds(line.money_in) if line.money_in else "",
                _pounds(line.money_out) if line.money_out else "",
                _pounds(line.balance),
            ]
        )
    writer.writerow(
        [
            heading.period.last_day.isoformat(),
            "Closing balance",
            "",
            "",
            _pounds(statement.closing_balance),
        ]
    )
    return out.getvalue()


def _latin1(text: str) -> str:
    # The PDF's built-in Helvetica covers Latin-1 only (it has £); anything else becomes ?.
    return text.encode("latin-1", "replace").decode("latin-1")


def _long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def statement_pdf(statement: Statement, heading: StatementHeading) -> bytes:
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_title(_latin1(f"Statement: {heading.card_text}"))
    pdf.set_author(_latin1(heading.council_name))
    pdf.set_lang("en-GB")
    pdf.set_creator(_latin1(heading.service_name))
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 8, _latin1(heading.council_name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 12)
    pdf.cell(0, 7, _latin1(heading.service_name), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("helvetica", "B", 14)
    pdf.cell(0, 8, _latin1(f"Statement: {heading.card_text}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 11)
    period = heading.period
    for text in (
        heading.account_text,
        f"Period {period.number}: {_long_date(period.starts_on)} to {_long_date(period.last_day)}",
        f"Opening balance: {format_pence(statement.opening_balance)}",
        f"Closing balance: {format_pence(statement.closing_balance)}",
    ):
        pdf.cell(0, 6, _latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("helvetica", "", 9)
    with pdf.table(
        col_widths=(22, 80, 26, 26, 26),
        text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=FontFace(emphasis="BOLD"),
        first_row_as_headings=True,
    ) as table:
        table.row(["Date", "Description", "Money in", "Money out", "Balance"])
        for line in statement.lines:
            table.row(
                [
                    _date(line.effective_at),
                    _latin1(line.description),
                    format_pence(line.money_in) if line.money_in else "",
                    format_pence(line.money_out) if line.money_out else "",
                    format_pence(line.balance),
                ]
            )
    if not statement.lines:
        pdf.ln(2)
        pdf.cell(0, 6, "No money moved in this period.", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
