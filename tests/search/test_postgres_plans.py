"""Both PostgreSQL strategies for a newest-first page give the same answer; the choice only changes speed."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import text

from paragraphs.corpus import service as corpus_service
from paragraphs.db.engine import Database
from paragraphs.db.models import Source
from paragraphs.search.index import Query
from paragraphs.search.postgres import PostgresIndex, tsquery_literal, tsvector_literal

ALWAYS_WALK = PostgresIndex(walk_cost_ratio=0.0, posting_row_cost=math.inf)
NEVER_WALK = PostgresIndex(walk_cost_ratio=math.inf, posting_row_cost=math.inf)


@pytest.mark.parametrize("engine_name", ["postgres"], indirect=True)
class TestPageStrategies:
    async def test_primary_key_walk_and_gin_bitmap_agree(self, db: Database) -> None:
        async with db.write() as session:
            for i in range(60):
                content = ["common"] + (["medium"] if i % 5 == 0 else []) + (["rare"] if i == 17 else [])
                await corpus_service.create_paragraph(session, " ".join([*content, f"w{i}"]), Source.USER)
        for words, operator in [
            (("common",), "and"),
            (("medium",), "and"),
            (("rare",), "or"),
            (("medium", "rare"), "or"),
        ]:
            query = Query(words=words, operator=operator)  # type: ignore[arg-type]
            for offset in (0, 7, 55):
                async with db.search_engine.connect() as connection:
                    matches = await ALWAYS_WALK.count(connection, query)
                    walked = await ALWAYS_WALK.page(connection, query, 10, offset, matches)
                async with db.search_engine.connect() as connection:
                    bitmap = await NEVER_WALK.page(connection, query, 10, offset, matches)
                assert walked == bitmap
                assert walked == sorted(walked, reverse=True)


class TestTsvectorLiteral:
    def test_positions_and_quoting(self) -> None:
        assert tsvector_literal(["a", "don't", "a"]) == "'a':1,3 'don''t':2"

    def test_positions_past_the_limit_are_kept_once(self) -> None:
        literal = tsvector_literal(["x"] * 20_000 + ["y"])
        assert literal.endswith("'y':16383")
        assert literal.count(",") == 255  # at most 256 positions per word


class TestTsqueryLiteral:
    def test_words_are_quoted_lexemes(self) -> None:
        assert tsquery_literal(Query(words=("don't", "the"), operator="and")) == "'don''t' & 'the'"
        assert tsquery_literal(Query(words=("a", "b", "c"), operator="or")) == "'a' | 'b' | 'c'"

    @pytest.mark.parametrize("engine_name", ["postgres"], indirect=True)
    async def test_postgresql_reads_them_as_the_words(self, db: Database) -> None:
        for words in [("don't",), ("o'clock", "x"), ("naïve", "42"), ("and", "near", "not", "or")]:
            literal = tsquery_literal(Query(words=words, operator="or"))
            async with db.search_engine.connect() as connection:
                parsed = await connection.scalar(text("SELECT CAST(CAST(:q AS tsquery) AS text)"), {"q": literal})
                matches = await connection.scalar(
                    text("SELECT CAST(:v AS tsvector) @@ CAST(:q AS tsquery)"),
                    {"v": tsvector_literal([words[-1]]), "q": literal},
                )
            assert parsed == literal
            assert matches is True
