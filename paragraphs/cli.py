"""The `paragraphs` command (also `python -m paragraphs`). Commands hold no logic: they call services.

A command that fails prints one `error: ...` line (paragraphs/startup.py says what, where, what to do)
and exits 1; `paragraphs --debug COMMAND` prints the traceback too.
"""

from __future__ import annotations

import asyncio
import sys
import traceback
from collections.abc import Awaitable, Iterable
from pathlib import Path
from typing import Annotated, BinaryIO, NoReturn, TypeVar

import structlog
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from paragraphs import __version__, errors, jobs, serving, worker_monitoring
from paragraphs.corpus import ingest
from paragraphs.corpus import service as corpus_service
from paragraphs.corpus.sources.offline import paragraphs_in_background
from paragraphs.db import migrate as db_migrate
from paragraphs.db.engine import create_database
from paragraphs.db.models import Source
from paragraphs.dictionary import tasks as _dictionary_tasks  # noqa: F401 - registers the jobs
from paragraphs.logs import configure_logging
from paragraphs.resources import open_resources, prepare_schema
from paragraphs.settings import Settings
from paragraphs.startup import ConfigurationError, check_broker, describe, explain, load_settings

app = typer.Typer(
    help="paragraphs: collect paragraphs, search them, define their most frequent words.", no_args_is_help=True
)
console = Console(stderr=True)
T = TypeVar("T")


class _State:
    debug = False
    settings: Settings | None = None


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"paragraphs {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="On failure, print the traceback too.")] = False,
) -> None:
    """paragraphs: collect paragraphs, search them, define their most frequent words."""
    _State.debug = debug


def _settings() -> Settings:
    settings = load_settings()
    _State.settings = settings
    configure_logging(settings.log_level, json=settings.log_json)
    return settings


def _log_start(settings: Settings, what: str) -> None:
    structlog.get_logger("paragraphs").info(f"starting {what}", **describe(settings))


def _run(coroutine: Awaitable[T]) -> T:
    async def main() -> T:
        return await coroutine

    return asyncio.run(main())


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default PARAGRAPHS_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind (default PARAGRAPHS_PORT).")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="Processes (default PARAGRAPHS_WORKERS, else one per core on PostgreSQL, one on SQLite).",
        ),
    ] = None,
) -> None:
    """Run the HTTP API."""
    settings = _settings()
    _run(_check_schema(settings))
    _log_start(settings, "serve")
    serving.run(
        settings,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or serving.default_workers(settings),
    )


async def _check_schema(settings: Settings) -> None:
    db = create_database(settings.database_url)
    try:
        await prepare_schema(db)
    finally:
        await db.dispose()


@app.command()
def migrate() -> None:
    """Apply pending database migrations (PostgreSQL needs this before `serve`)."""
    settings = _settings()

    async def run() -> set[str]:
        db = create_database(settings.database_url)
        try:
            await db_migrate.upgrade(db.write_engine)
            return await db_migrate.current_revisions(db.engine)
        finally:
            await db.dispose()

    revisions = _run(run())
    console.print(f"database at revision {', '.join(sorted(revisions))} (head)")


@app.command()
def fetch(
    n: Annotated[int, typer.Option("-n", "--count", min=1, max=100_000, help="How many paragraphs.")] = 1,
) -> None:
    """Fetch N paragraphs from the configured source and store them."""
    settings = _settings()

    async def run() -> int:
        stored = 0
        async with open_resources(settings) as resources:
            with _progress() as progress:
                task = progress.add_task(f"fetching from {resources.source.source}", total=n)
                for _ in range(n):
                    try:
                        content = await corpus_service.fetch_text(resources.source)
                    except errors.AppError as exc:
                        _fail(f"{exc.detail} (stored {stored} of {n})")
                    async with resources.db.write() as session:
                        await corpus_service.create_paragraph(session, content, resources.source.source)
                    stored += 1
                    progress.advance(task)
        return stored

    console.print(f"stored {_run(run())} paragraphs")


def _ingest(
    settings: Settings, description: str, total: int | None, contents: Iterable[str], source: Source, batch_size: int
) -> ingest.IngestReport:
    async def run() -> ingest.IngestReport:
        async with open_resources(settings) as resources:
            with _progress() as progress:
                task = progress.add_task(description, total=total)
                return await ingest.store_all(
                    resources.db,
                    contents,
                    source,
                    batch_size=batch_size,
                    progress=lambda report: progress.update(task, completed=report.stored + report.skipped),
                )

    return _run(run())


@app.command("import")
def import_(
    file: Annotated[str, typer.Argument(help="A UTF-8 text file, paragraphs separated by blank lines; - for stdin.")],
    batch_size: Annotated[
        int, typer.Option(min=1, max=10_000, help="Paragraphs per transaction.")
    ] = ingest.DEFAULT_BATCH_SIZE,
) -> None:
    """Store the paragraphs of a text file."""
    settings = _settings()
    name = "standard input" if file == "-" else file
    with _open_input(file) as stream:
        lines = ingest.decoded_lines(stream, name)
        report = _ingest(settings, f"importing {name}", None, ingest.split_paragraphs(lines), Source.IMPORT, batch_size)
    console.print(f"stored {report.stored} paragraphs, skipped {report.skipped}")


def _open_input(file: str) -> BinaryIO:
    """The file's bytes (stdin's for -); a file that cannot be opened is a usage error (exit 2)."""
    if file == "-":
        if sys.stdin is None:
            _fail("standard input is closed; pass a file, or pipe text into `paragraphs import -`", code=2)
        return sys.stdin.buffer
    try:
        return Path(file).open("rb")
    except OSError as exc:
        reason = "no such file" if isinstance(exc, FileNotFoundError) else (exc.strerror or str(exc)).lower()
        _fail(f"cannot open {file}: {reason}", code=2)


@app.command()
def seed(
    count: Annotated[int, typer.Option(min=1, max=10_000_000, help="How many paragraphs.")] = 1000,
    seed: Annotated[int, typer.Option(help="Generator seed: the same seed makes the same corpus.")] = 0,
    batch_size: Annotated[
        int, typer.Option(min=1, max=10_000, help="Paragraphs per transaction.")
    ] = ingest.DEFAULT_BATCH_SIZE,
) -> None:
    """Store COUNT paragraphs from the offline generator (benchmark and demo corpora)."""
    settings = _settings()
    report = _ingest(settings, "seeding", count, paragraphs_in_background(seed, count), Source.OFFLINE, batch_size)
    console.print(f"stored {report.stored} paragraphs")


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 2,
    pool: Annotated[str, typer.Option(help="Celery pool: prefork, or solo for one process.")] = "prefork",
    metrics_port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Serve the worker's Prometheus metrics on this port.")
    ] = None,
) -> None:
    """Run a Celery worker for the background jobs (needs PARAGRAPHS_BROKER_URL)."""
    settings = _settings()
    if not settings.broker_url:
        _fail("PARAGRAPHS_BROKER_URL is not set; without a broker, jobs run inside `serve`", code=2)
    if metrics_port is not None:
        worker_monitoring.reexec_with_metrics_directory()
    _run(_check_schema(settings))
    check_broker(settings)
    _log_start(settings, "worker")
    jobs.run_worker(settings, concurrency, pool, metrics_port)


def _fail(message: str, *, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def main() -> None:
    """The console script: any failure is one `error:` line (and the traceback with --debug), exit 1."""
    try:
        app()
    except Exception as exc:  # noqa: BLE001 - the one place a command's failure becomes a message
        if _State.debug:
            traceback.print_exception(exc)
        problems = exc.problems if isinstance(exc, ConfigurationError) else [explain(exc, _State.settings)]
        for problem in problems:
            typer.echo(f"error: {problem}", err=True)
        sys.exit(1)
