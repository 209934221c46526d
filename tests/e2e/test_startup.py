"""Bad settings and unreachable services, as a user meets them: the real command, one `error:` line, exit 1."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests import databases
from tests.e2e.server import free_port, run_cli, serve, start, stop
from tests.e2e.test_cli import error_lines
from tests.services import POSTGRES_URL, RABBITMQ_URL, missing, reachable

CONNECTION_COMMANDS = [
    ["serve", "--port", "1"],
    ["migrate"],
    ["fetch"],
    ["import", "/dev/null"],
    ["seed", "--count", "1"],
    ["worker"],
]


def require_postgres() -> None:
    if not reachable(POSTGRES_URL, 5432):
        missing("PostgreSQL", POSTGRES_URL)


class TestSettings:
    def test_a_misspelt_variable_is_an_error_not_a_new_sqlite_file(self, tmp_path: Path) -> None:
        result = run_cli(["migrate"], {"PARAGRAPHS_DATABSE_URL": "sqlite:///elsewhere.db"}, cwd=tmp_path)
        assert result.returncode == 1
        assert error_lines(result.stderr) == [
            "error: PARAGRAPHS_DATABSE_URL: no such setting; did you mean PARAGRAPHS_DATABASE_URL?"
        ]
        assert list(tmp_path.iterdir()) == []

    def test_a_misspelt_variable_in_the_env_file(self, tmp_path: Path) -> None:
        (tmp_path / ".env").write_text("PARAGRAPHS_REDIS_ULR=redis://127.0.0.1:6379/0\n")
        result = run_cli(["serve", "--port", "1"], {}, cwd=tmp_path)
        assert result.returncode == 1
        assert error_lines(result.stderr) == [
            "error: PARAGRAPHS_REDIS_ULR: no such setting; did you mean PARAGRAPHS_REDIS_URL? (in .env)"
        ]

    def test_a_redis_url_without_a_scheme_fails_at_start_naming_the_variable(self, tmp_path: Path) -> None:
        result = run_cli(["serve", "--port", "1"], {"PARAGRAPHS_REDIS_URL": "localhost:6379"}, cwd=tmp_path)
        assert result.returncode == 1
        [line] = error_lines(result.stderr)
        assert line.startswith("error: PARAGRAPHS_REDIS_URL=localhost:6379 (in the environment): URL scheme")
        assert list(tmp_path.iterdir()) == []


class TestDatabaseUnreachable:
    @pytest.mark.parametrize("command", CONNECTION_COMMANDS, ids=lambda c: c[0])
    def test_postgresql_not_running_is_one_line_for_every_command(self, command: list[str], tmp_path: Path) -> None:
        port = free_port()
        settings = {
            "PARAGRAPHS_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/paragraphs",
            "PARAGRAPHS_OFFLINE": "true",
            "PARAGRAPHS_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0",
        }
        result = run_cli(command, settings, cwd=tmp_path)
        assert result.returncode == 1
        assert error_lines(result.stderr) == [
            f"error: cannot connect to PostgreSQL at 127.0.0.1:{port} (connection refused): "
            "is PostgreSQL running there? Check PARAGRAPHS_DATABASE_URL"
        ]

    def test_a_sqlite_file_whose_folder_cannot_be_made(self, tmp_path: Path) -> None:
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("")
        result = run_cli(["migrate"], {"PARAGRAPHS_DATABASE_URL": f"sqlite:///{blocker}/paragraphs.db"}, cwd=tmp_path)
        assert result.returncode == 1
        [line] = error_lines(result.stderr)
        assert line.startswith(f"error: cannot use the SQLite database {blocker}/paragraphs.db (")
        assert line.endswith("check that its folder can be created and written")

    def test_debug_adds_the_traceback(self, tmp_path: Path) -> None:
        settings = {"PARAGRAPHS_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/paragraphs"}
        result = run_cli(["--debug", "migrate"], settings, cwd=tmp_path)
        assert result.returncode == 1
        assert "Traceback (most recent call last)" in result.stderr
        assert result.stderr.strip().splitlines()[-1].startswith("error: cannot connect to PostgreSQL")

    def test_a_missing_database_says_how_to_create_it(self, tmp_path: Path) -> None:
        require_postgres()
        url = make_url(POSTGRES_URL).set(database="paragraphs_no_such_database")
        settings = {"PARAGRAPHS_DATABASE_URL": url.render_as_string(hide_password=False)}
        result = run_cli(["migrate"], settings, cwd=tmp_path)
        assert result.returncode == 1
        [line] = error_lines(result.stderr)
        assert 'database "paragraphs_no_such_database" does not exist' in line
        assert "createdb -h" in line
        assert "then run `paragraphs migrate`" in line

    async def test_a_schema_behind_says_to_migrate(self, tmp_path: Path) -> None:
        require_postgres()
        url = await databases.create_postgres_database(POSTGRES_URL)
        try:
            result = run_cli(["serve", "--port", "1"], {"PARAGRAPHS_DATABASE_URL": url}, cwd=tmp_path)
        finally:
            await databases.drop_postgres_database(POSTGRES_URL, url)
        assert result.returncode == 1
        [line] = error_lines(result.stderr)
        assert "the database schema is not up to date (at: empty;" in line
        assert line.endswith("run `paragraphs migrate` first")

    def test_a_worker_whose_broker_is_down(self, tmp_path: Path) -> None:
        port = free_port()
        settings = {
            "PARAGRAPHS_DATABASE_URL": f"sqlite:///{tmp_path / 'paragraphs.db'}",
            "PARAGRAPHS_BROKER_URL": f"amqp://guest:s3cret@127.0.0.1:{port}//",
        }
        result = run_cli(["worker", "--pool", "solo"], settings, cwd=tmp_path)
        assert result.returncode == 1
        [line] = error_lines(result.stderr)
        assert line.startswith(f"error: cannot connect to the broker at amqp://guest:***@127.0.0.1:{port}//")
        assert line.endswith("is RabbitMQ running there? Check PARAGRAPHS_BROKER_URL")
        assert "s3cret" not in result.stderr


class TestStartLine:
    def test_serve_logs_version_database_cache_broker_and_env_file_without_passwords(self, tmp_path: Path) -> None:
        (tmp_path / ".env").write_text("PARAGRAPHS_OFFLINE=true\n")
        settings = {
            "PARAGRAPHS_DATABASE_URL": f"sqlite:///{tmp_path / 'paragraphs.db'}",
            "PARAGRAPHS_BROKER_URL": f"amqp://guest:s3cret@127.0.0.1:{free_port()}//",
        }
        with serve(settings, tmp_path, cwd=tmp_path) as server:
            log = server.log()
        [line] = [line for line in log.splitlines() if "starting serve" in line]
        assert "version=0.1.0" in line
        assert f"database='sqlite {tmp_path / 'paragraphs.db'}'" in line
        assert "cache=in-process" in line
        assert "broker=amqp://guest:***@127.0.0.1:" in line
        assert f"env_file={tmp_path / '.env'}" in line
        assert "s3cret" not in log

    def test_worker_logs_its_start_line(self, tmp_path: Path) -> None:
        if not reachable(RABBITMQ_URL, 5672):
            missing("RabbitMQ", RABBITMQ_URL)
        log_path = tmp_path / "worker.log"
        settings = {
            "PARAGRAPHS_DATABASE_URL": f"sqlite:///{tmp_path / 'paragraphs.db'}",
            "PARAGRAPHS_BROKER_URL": RABBITMQ_URL,
        }
        process = start(["worker", "--pool", "solo", "--concurrency", "1"], settings, log_path, tmp_path)
        try:
            deadline = time.monotonic() + 60
            while "starting worker" not in log_path.read_text() and process.poll() is None:
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.1)
        finally:
            stop(process)
        [line] = [line for line in log_path.read_text().splitlines() if "starting worker" in line]
        assert "version=0.1.0" in line
        assert "broker=amqp://guest:***@127.0.0.1:5672/" in line
