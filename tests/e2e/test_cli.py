"""The `paragraphs` command, run as a real process against real databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from paragraphs import __version__
from paragraphs.db.engine import Database
from paragraphs.db.models import Paragraph, Source
from tests.e2e.server import run_cli


async def stored(db: Database) -> dict[str, int]:
    async with db.read() as session:
        rows = await session.execute(select(Paragraph.source, func.count()).group_by(Paragraph.source))
        return dict(rows.all())


class TestVersion:
    def test_prints_the_package_version(self) -> None:
        result = run_cli(["--version"], {})
        assert result.returncode == 0, result.stderr
        assert result.stdout == f"paragraphs {__version__}\n"


class TestImport:
    async def test_stores_paragraphs_separated_by_blank_lines_and_skips_wordless_ones(
        self, db: Database, database_url: str, tmp_path: Path
    ) -> None:
        source = tmp_path / "input.txt"
        source.write_text("First paragraph,\nstill the first.\n\n\n  Second one.  \n\n...\n\n!!! ???\n\nThird.")
        result = run_cli(["import", str(source)], {"PARAGRAPHS_DATABASE_URL": database_url})
        assert result.returncode == 0, result.stderr
        assert "stored 3 paragraphs, skipped 2" in result.stderr
        assert await stored(db) == {Source.IMPORT.value: 3}

    async def test_reads_standard_input(self, db: Database, database_url: str) -> None:
        result = run_cli(["import", "-"], {"PARAGRAPHS_DATABASE_URL": database_url}, stdin="one\n\ntwo\n")
        assert result.returncode == 0, result.stderr
        assert await stored(db) == {Source.IMPORT.value: 2}

    async def test_missing_file_is_an_error_and_stores_nothing(self, db: Database, database_url: str) -> None:
        result = run_cli(["import", "/nonexistent/file.txt"], {"PARAGRAPHS_DATABASE_URL": database_url})
        assert result.returncode == 2
        assert "no such file" in result.stderr
        assert await stored(db) == {}


def error_lines(stderr: str) -> list[str]:
    """The `error:` lines of a failed command, after checking it printed no traceback."""
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def numbered(count: int) -> bytes:
    return b"".join(f"Paragraph number {n}.\n\n".encode() for n in range(count))


class TestImportFailures:
    """`paragraphs import` never hangs: any failure ends it with one `error:` line, whole batches kept."""

    async def test_a_file_that_is_not_utf8_stops_at_its_byte_offset_keeping_whole_batches(
        self, db: Database, database_url: str, tmp_path: Path
    ) -> None:
        good = numbered(25)
        source = tmp_path / "latin1.txt"
        source.write_bytes(good + "Café au lait.\n\nAfter.\n".encode("latin-1"))
        result = run_cli(["import", str(source), "--batch-size", "10"], {"PARAGRAPHS_DATABASE_URL": database_url})
        assert result.returncode == 1
        [line] = error_lines(result.stderr)
        assert f"{source}: not UTF-8 text at byte {len(good) + 3} (0xe9)" in line
        assert "stored 20 paragraphs" in line
        # Two whole batches of 10; nothing of the third, which held the bad byte.
        assert await stored(db) == {Source.IMPORT.value: 20}

    async def test_standard_input_cut_short_mid_character(self, db: Database, database_url: str) -> None:
        truncated = "one\n\ntwo ü".encode()[:-1]
        result = run_cli(["import", "-"], {"PARAGRAPHS_DATABASE_URL": database_url}, stdin=truncated)
        assert result.returncode == 1
        [line] = error_lines(result.stderr)
        assert f"standard input: ends in the middle of a UTF-8 character at byte {len(truncated) - 1}" in line
        assert await stored(db) == {}

    @pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
    async def test_standard_input_closed(self, db: Database, database_url: str) -> None:
        result = run_cli(["import", "-"], {"PARAGRAPHS_DATABASE_URL": database_url}, close_stdin=True)
        assert result.returncode == 2
        assert error_lines(result.stderr) == [
            "error: standard input is closed; pass a file, or pipe text into `paragraphs import -`"
        ]

    @pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
    async def test_a_file_that_vanished(self, db: Database, database_url: str, tmp_path: Path) -> None:
        target = tmp_path / "gone.txt"
        target.write_text("here a moment ago\n")
        link = tmp_path / "link.txt"
        link.symlink_to(target)
        target.unlink()
        result = run_cli(["import", str(link)], {"PARAGRAPHS_DATABASE_URL": database_url})
        assert result.returncode == 2
        assert error_lines(result.stderr) == [f"error: cannot open {link}: no such file"]
        assert await stored(db) == {}


class TestSeedAndFetch:
    async def test_seed_is_deterministic(self, db: Database, database_url: str) -> None:
        settings = {"PARAGRAPHS_DATABASE_URL": database_url}
        assert run_cli(["seed", "--count", "3", "--seed", "7"], settings).returncode == 0
        async with db.read() as session:
            first = list(await session.scalars(select(Paragraph.content).order_by(Paragraph.id)))
        assert run_cli(["seed", "--count", "3", "--seed", "7"], settings).returncode == 0
        async with db.read() as session:
            both = list(await session.scalars(select(Paragraph.content).order_by(Paragraph.id)))
        assert len(first) == 3
        assert both == first + first

    async def test_fetch_offline(self, db: Database, database_url: str) -> None:
        result = run_cli(["fetch", "-n", "2"], {"PARAGRAPHS_DATABASE_URL": database_url, "PARAGRAPHS_OFFLINE": "true"})
        assert result.returncode == 0, result.stderr
        assert "stored 2 paragraphs" in result.stderr
        assert await stored(db) == {Source.OFFLINE.value: 2}


class TestMigrate:
    @pytest.mark.parametrize("engine_name", ["postgres"], indirect=True)
    async def test_serve_refuses_a_database_that_is_behind_until_migrated(
        self, engine_name: str, postgres_database_url: str, tmp_path: Path
    ) -> None:
        from tests import databases
        from tests.services import POSTGRES_URL

        url = await databases.create_postgres_database(POSTGRES_URL)
        try:
            settings = {"PARAGRAPHS_DATABASE_URL": url}
            refused = run_cli(["serve", "--port", "1"], settings)
            assert refused.returncode == 1
            assert "run `paragraphs migrate` first" in refused.stderr
            migrated = run_cli(["migrate"], settings)
            assert migrated.returncode == 0, migrated.stderr
            assert "(head)" in migrated.stderr
            again = run_cli(["migrate"], settings)
            assert again.returncode == 0, again.stderr
        finally:
            await databases.drop_postgres_database(POSTGRES_URL, url)
