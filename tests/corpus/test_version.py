"""The corpus version each process keeps: heard through PostgreSQL NOTIFY, read afresh when unsure."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import event, text

from paragraphs.corpus import service as corpus_service
from paragraphs.corpus.version import CorpusVersion
from paragraphs.db.engine import Database
from paragraphs.db.models import Source
from tests.waiting import eventually


async def write(db: Database, content: str) -> None:
    async with db.write() as session:
        await corpus_service.create_paragraph(session, content, Source.USER)


class TestCorpusVersion:
    async def test_reads_the_database_when_not_listening(self, db: Database) -> None:
        version = CorpusVersion(db)  # not started: as on SQLite
        try:
            assert await version.current() == 0
            await write(db, "one")
            assert await version.current() == 1
        finally:
            await version.close()

    @pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
    async def test_sqlite_reads_again_only_after_a_commit(self, db: Database) -> None:
        statements: list[str] = []

        def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            if "corpus_state" in statement:
                statements.append(statement)

        event.listen(db.search_engine.sync_engine, "before_cursor_execute", note)
        version = CorpusVersion(db)
        try:
            assert await version.current() == 0
            assert await version.current() == 0
            assert len(statements) == 1  # nothing committed since the first read: no second one
            await write(db, "one")  # another connection of this process
            assert await version.current() == 1
            assert len(statements) == 2
            with sqlite3.connect(db.engine.url.database or "") as other:  # as another process would
                other.execute("UPDATE corpus_state SET version = 7")
            assert await version.current() == 7
        finally:
            event.remove(db.search_engine.sync_engine, "before_cursor_execute", note)
            await version.close()

    @pytest.mark.parametrize("engine_name", ["postgres"], indirect=True)
    async def test_another_process_write_is_heard_without_asking_the_database(self, db: Database) -> None:
        listener = CorpusVersion(db)
        listener.start()
        try:
            await eventually(lambda: listener._listening)
            assert await listener.current() == 0
            await write(db, "written elsewhere")
            await write(db, "and again")
            await eventually(lambda: listener._known == 2)
            assert await listener.current() == 2
        finally:
            await listener.close()

    @pytest.mark.parametrize("engine_name", ["postgres"], indirect=True)
    async def test_a_lost_listener_falls_back_to_the_database_and_reconnects(self, db: Database) -> None:
        listener = CorpusVersion(db)
        listener.start()
        try:
            await eventually(lambda: listener._listening)
            async with db.write() as session:
                await session.execute(
                    text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'")
                )
            await eventually(lambda: not listener._listening)
            await write(db, "while deaf")
            assert await listener.current() == 1  # asked the database
            await eventually(lambda: listener._listening)
            await write(db, "hearing again")
            await eventually(lambda: listener._known == 2 or listener._known is None)
            assert await listener.current() == 2
        finally:
            await listener.close()

    async def test_own_writes_are_seen_at_once(self, db: Database) -> None:
        listener = CorpusVersion(db)
        listener.start()
        try:
            assert await listener.current() == 0
            await write(db, "mine")
            listener.stale()
            assert await listener.current() == 1
        finally:
            await listener.close()
