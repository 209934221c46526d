"""The plain-sqlite3 search path (`paragraphs/search/sqlite_read.py`): times as the API writes them."""

from __future__ import annotations

from datetime import UTC, datetime

import pydantic_core
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from paragraphs.db.models import Paragraph
from paragraphs.search.sqlite_read import iso_created_at

# What the column's type writes into SQLite for an aware datetime (naive UTC text, db/models.py).
_STORE = Paragraph.__table__.c.created_at.type.dialect_impl(sqlite.dialect()).bind_processor(sqlite.dialect())


def api_form(moment: datetime) -> str:
    """The time as pydantic writes an aware UTC datetime in the API's JSON."""
    return str(pydantic_core.to_json(moment)[1:-1].decode())


@given(st.datetimes(timezones=st.just(UTC)))
@example(datetime(2026, 11, 23, 21, 15, 0, 0, tzinfo=UTC))
@example(datetime(2026, 11, 23, 21, 15, 0, 120_000, tzinfo=UTC))
@example(datetime(9, 1, 2, 3, 4, 5, 6, tzinfo=UTC))
def test_a_stored_time_reads_as_pydantic_writes_it(moment: datetime) -> None:
    assert _STORE is not None
    assert iso_created_at(_STORE(moment)) == api_form(moment)


def test_a_time_stored_in_another_form_takes_the_long_way() -> None:
    assert iso_created_at("2026-11-23 21:15:00") == "2026-11-23T21:15:00Z"
    assert iso_created_at("2026-11-23T21:15:00.5") == "2026-11-23T21:15:00.500000Z"
