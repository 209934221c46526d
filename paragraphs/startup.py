"""What a command does before its work, and what it says when it cannot: settings read strictly, one
line describing what the process will use, and configuration or connection failures turned into one
sentence a person can act on (what failed, where, what to do). The CLI prints that sentence as
`error: ...`; `paragraphs --debug` adds the traceback.
"""

from __future__ import annotations

import errno
import os
import socket
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from dotenv import dotenv_values
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from paragraphs import __version__, jobs
from paragraphs.corpus.ingest import IngestStopped, UnreadableInput
from paragraphs.resources import SchemaBehind
from paragraphs.serving import CannotListen
from paragraphs.settings import ENV_PREFIX, Settings, unknown_variables
from paragraphs.worker_monitoring import ExporterFailed

ENV_FILE = Path(".env")
BROKER_CHECK_TIMEOUT_S = 5
NETWORK_ERRNOS = {errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ECONNRESET, errno.ETIMEDOUT}


class BrokerUnreachable(Exception):
    pass


class ConfigurationError(Exception):
    """Settings that cannot work; one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def env_file() -> Path | None:
    """The `.env` file settings are read from (the working directory's), if there is one."""
    return ENV_FILE if ENV_FILE.is_file() else None


def load_settings() -> Settings:
    """Settings from the environment and `.env`; a name that is not a setting or a value that cannot
    work is a `ConfigurationError` naming the variable and where it came from."""
    environ = os.environ
    dotenv = env_file()
    from_file = {k: v for k, v in dotenv_values(dotenv).items() if v is not None} if dotenv else {}
    problems = unknown_variables(environ)
    problems += [f"{problem} (in {dotenv})" for problem in unknown_variables(from_file)]
    if problems:
        raise ConfigurationError(problems)
    try:
        return Settings(_env_file=dotenv)
    except ValidationError as exc:
        raise ConfigurationError(
            [_invalid(error, environ, from_file, dotenv) for error in exc.errors(include_url=False)]
        ) from exc


def _invalid(error: Any, environ: Mapping[str, str], from_file: Mapping[str, str], dotenv: Path | None) -> str:
    name = ENV_PREFIX + str(error["loc"][0]).upper() if error["loc"] else ENV_PREFIX
    lowered = {key.upper(): value for key, value in environ.items()}
    where = "in the environment" if name in lowered else f"in {dotenv}" if dotenv else "the default"
    value = lowered.get(name, {k.upper(): v for k, v in from_file.items()}.get(name, ""))
    shown = "(hidden)" if "KEYS" in name else _without_password(value)
    return f"{name}={shown} ({where}): {error['msg']}"


def _without_password(url: str) -> str:
    """The URL with its password as `***`; a URL too broken to split is hidden whole if it may hold one."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = f"{parts.username or ''}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    except ValueError:
        return "(hidden)" if "@" in url else url
    return urlunsplit(parts._replace(netloc=netloc))


def describe(settings: Settings) -> dict[str, str | None]:
    """What this process will use, for its first log line; never a password."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        database = f"sqlite {Path(url.database or ':memory:').resolve() if url.database else ':memory:'}"
    else:
        database = f"postgresql {url.host or 'localhost'}:{url.port or 5432}/{url.database} as {url.username}"
    return {
        "version": __version__,
        "database": database,
        "cache": _without_password(settings.redis_url) if settings.redis_url else "in-process",
        "broker": _without_password(settings.broker_url) if settings.broker_url else "in-process jobs",
        "source": "offline" if settings.offline else settings.metaphorpsum_url,
        "env_file": str(dotenv.resolve()) if (dotenv := env_file()) else None,
    }


def check_broker(settings: Settings) -> None:
    """Connect to the Celery broker once: a worker that cannot reach it says so instead of retrying forever."""
    assert settings.broker_url is not None  # noqa: S101 - the worker command checks it is set
    app = jobs.celery_app(settings)
    where = _without_password(settings.broker_url)
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=BROKER_CHECK_TIMEOUT_S)
    except Exception as exc:
        kind = "Redis" if settings.broker_url.startswith("redis") else "RabbitMQ"
        raise BrokerUnreachable(
            f"cannot connect to the broker at {where} ({type(exc).__name__}: {' '.join(str(exc).split())[:120]}): "
            f"is {kind} running there? Check PARAGRAPHS_BROKER_URL"
        ) from exc


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__


def _postgres_where(settings: Settings) -> tuple[str, str, str]:
    url = make_url(settings.database_url)
    return f"{url.host or 'localhost'}:{url.port or 5432}", str(url.database), str(url.username)


def _database_problem(cause: BaseException, settings: Settings) -> str | None:
    name = type(cause).__name__
    if make_url(settings.database_url).get_backend_name() == "sqlite":
        path = make_url(settings.database_url).database
        if isinstance(cause, OSError) and cause.filename is not None and str(path).startswith(str(cause.filename)):
            reason = f"{cause.strerror}: {cause.filename}"
        elif isinstance(cause, sqlite3.Error):
            reason = str(cause)
        else:
            return None
        return f"cannot use the SQLite database {path} ({reason}): check that its folder can be created and written"
    where, database, user = _postgres_where(settings)
    host, _, port = where.rpartition(":")
    if name == "InvalidCatalogNameError":
        return (
            f'database "{database}" does not exist on PostgreSQL at {where}: create it '
            f"(`createdb -h {host} -p {port} -U {user} {database}`), then run `paragraphs migrate`"
        )
    if name in {"InvalidPasswordError", "InvalidAuthorizationSpecificationError"}:
        return f'PostgreSQL at {where} refused user "{user}": {cause}; check PARAGRAPHS_DATABASE_URL'
    if isinstance(cause, socket.gaierror):
        return f"cannot resolve the PostgreSQL host {host!r}: check PARAGRAPHS_DATABASE_URL"
    if isinstance(cause, OSError) and (cause.errno in NETWORK_ERRNOS or isinstance(cause, ConnectionError)):
        reason = os.strerror(cause.errno).lower() if cause.errno else "connection failed"
        return f"cannot connect to PostgreSQL at {where} ({reason}): is PostgreSQL running there? Check PARAGRAPHS_DATABASE_URL"
    if isinstance(cause, TimeoutError):
        return f"PostgreSQL at {where} did not answer in time: is it running and reachable?"
    return None


def explain(exc: BaseException, settings: Settings | None) -> str:
    """One line for a person: what failed, where, and what to do."""
    if isinstance(exc, IngestStopped):
        stored = exc.report.stored
        return (
            f"{explain(exc.cause, settings)}; stored {stored} paragraph{'s' * (stored != 1)} from the batches "
            "before it, nothing from the batch it happened in"
        )
    if isinstance(
        exc, ConfigurationError | UnreadableInput | SchemaBehind | BrokerUnreachable | ExporterFailed | CannotListen
    ):
        return str(exc)
    for cause in _causes(exc):
        if settings is not None and (problem := _database_problem(cause, settings)):
            return problem
    detail = " ".join(f"{type(exc).__name__}: {exc}".split())
    return f"{detail[:300]} (run `paragraphs --debug ...` to see the traceback)"
