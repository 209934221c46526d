"""The `paragraphs` command (also `python -m paragraphs`). Commands hold no logic: they call services."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Iterable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from paragraphs import errors, jobs
from paragraphs.corpus import ingest
from paragraphs.corpus import service as corpus_service
from paragraphs.corpus.sources.offline import paragraphs_in_background
from paragraphs.db import migrate as db_migrate
from paragraphs.db.engine import create_database
from paragraphs.db.models import Source
from paragraphs.dictionary import tasks as _dictionary_tasks  # noqa: F401 - registers the jobs
from paragraphs.logs import configure_logging
from paragraphs.resources import SchemaBehind, open_resources, prepare_schema
from paragraphs.settings import Settings

app = typer.Typer(
    help="paragraphs: collect paragraphs, search them, define their most frequent words.", no_args_is_help=True
)
console = Console(stderr=True)
T = TypeVar("T")


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings.log_level, json=settings.log_json)
    return settings


def _run(coroutine: Awaitable[T]) -> T:
    async def main() -> T:
        return await coroutine

    try:
        return asyncio.run(main())
    except SchemaBehind as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default PARAGRAPHS_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind (default PARAGRAPHS_PORT).")] = None,
) -> None:
    """Run the HTTP API."""
    import uvicorn

    from paragraphs.app import create_app

    settings = _settings()
    _run(_check_schema(settings))
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_config=None,
        proxy_headers=True,
        timeout_graceful_shutdown=10,
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
                        console.print(f"[red]error:[/red] {exc.detail} (stored {stored} of {n})")
                        raise typer.Exit(1) from exc
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
    file: Annotated[str, typer.Argument(help="A text file, paragraphs separated by blank lines; - for stdin.")],
    batch_size: Annotated[
        int, typer.Option(min=1, max=10_000, help="Paragraphs per transaction.")
    ] = ingest.DEFAULT_BATCH_SIZE,
) -> None:
    """Store the paragraphs of a text file."""
    settings = _settings()
    if file != "-" and not Path(file).is_file():
        console.print(f"[red]error:[/red] no such file: {file}")
        raise typer.Exit(2)
    with sys.stdin if file == "-" else Path(file).open(encoding="utf-8") as stream:
        report = _ingest(
            settings, f"importing {file}", None, ingest.split_paragraphs(stream), Source.IMPORT, batch_size
        )
    console.print(f"stored {report.stored} paragraphs, skipped {report.skipped}")


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
) -> None:
    """Run a Celery worker for the background jobs (needs PARAGRAPHS_BROKER_URL)."""
    settings = _settings()
    if not settings.broker_url:
        console.print("[red]error:[/red] PARAGRAPHS_BROKER_URL is not set; without a broker, jobs run inside `serve`")
        raise typer.Exit(2)
    _run(_check_schema(settings))
    jobs.run_worker(settings, concurrency, pool)


def main() -> None:
    app()
