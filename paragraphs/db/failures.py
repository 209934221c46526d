"""Database trouble, told apart from bugs: what is a 503 to retry later, and what the service retries itself.

Two seams of SQLAlchemy see every failure of a PostgreSQL engine:
- `do_connect` wraps opening a connection. asyncpg raises plain `OSError`s (refused, reset, timed out)
  and its own errors (`CannotConnectNowError`: starting up or shutting down; `TooManyConnectionsError`)
  there, which SQLAlchemy passes on untranslated and no event sees.
- `handle_error` sees a failed statement, commit or rollback on an open connection. Lost connections,
  a server shutting down (`AdminShutdown`, 57P01) and resource exhaustion become `DatabaseUnavailable`,
  and the connection is marked disconnected so the pool drops it (and every older one) and reconnects.

A deadlock or serialization failure (40P01, 40001) is left as it is: the database rolled the
transaction back, so `Database.transact` runs it again (`is_retryable`); if every attempt fails, the
handler in `errors.py` answers 503 too. A cancelled statement (57014: `statement_timeout`, or an
operator's `pg_cancel_backend`) is left as it is too, for the code that set the timeout to explain;
`errors.py` answers 503 for it otherwise. Anything else stays an error (a 500 is a bug to fix).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import stamina
import structlog
from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from paragraphs import errors

T = TypeVar("T")

log = structlog.get_logger(__name__)

RETRY_AFTER_S = 1

# SQLSTATEs (PostgreSQL appendix A) that mean "the database, not the request".
SHUTTING_DOWN = {"57P01": "is shutting down", "57P02": "crashed and is restarting", "57P03": "is starting up"}
RETRYABLE = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected


class DatabaseUnavailable(errors.ServiceUnavailable):
    """Our database cannot be reached or is restarting; nothing was changed (or, for a commit, may not have been)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(RETRY_AFTER_S)}


def _sqlstate(exc: BaseException | None) -> str | None:
    state = getattr(exc, "sqlstate", None)
    return state if isinstance(state, str) else None


# A write that deadlocked or failed to serialize is run again (docs/architecture.md, "Writers"):
# at most this many times, after 10 ms, 20 ms, ... (at most 0.5 s) plus up to 50 ms of jitter, so the
# transactions that collided do not collide again in step.
WRITE_ATTEMPTS = 5


async def retry_transaction(once: Callable[[], Awaitable[T]]) -> T:
    """`once()` (one whole transaction), run again if the database rolled it back for a deadlock or a
    serialization failure (they leave nothing behind). Other errors are raised at once."""
    async for attempt in stamina.retry_context(
        on=is_retryable,
        attempts=WRITE_ATTEMPTS,
        timeout=None,
        wait_initial=0.01,
        wait_max=0.5,
        wait_jitter=0.05,
    ):
        with attempt:
            return await once()
    raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover


def is_retryable(exc: Exception) -> bool:
    """A deadlock or serialization failure: the database rolled the whole transaction back."""
    return isinstance(exc, DBAPIError) and (_sqlstate(exc.orig) or "") in RETRYABLE


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def connect_failure(exc: BaseException) -> DatabaseUnavailable | None:
    """What a client is told when a new connection cannot be opened; None if `exc` is not about that."""
    state = _sqlstate(exc)
    if state in SHUTTING_DOWN:
        detail = f"the database {SHUTTING_DOWN[state]}; nothing was changed, try again in a few seconds"
    elif state == "53300" or isinstance(exc, asyncpg.TooManyConnectionsError):
        detail = "the database has no free connections (too many clients); nothing was changed, try again shortly"
    elif isinstance(exc, TimeoutError):
        detail = "the database did not accept a connection in time; nothing was changed, try again shortly"
    elif isinstance(exc, OSError | asyncpg.PostgresError | asyncpg.InterfaceError):
        detail = "the database cannot be reached right now; nothing was changed, try again shortly"
    else:
        return None
    return DatabaseUnavailable(detail)


def statement_failure(exc: BaseException, *, disconnected: bool) -> DatabaseUnavailable | None:
    """What a client is told when a statement on an open connection failed for the database's sake."""
    state = _sqlstate(exc)
    if state in SHUTTING_DOWN:
        return DatabaseUnavailable(
            f"the database {SHUTTING_DOWN[state]} and ended the request's connection; try again in a few seconds"
        )
    if state is not None and (state.startswith(("08", "53")) or state == "58030"):
        # 08: connection exceptions; 53: insufficient resources (disk full, out of memory, too many
        # connections); 58030: I/O error.
        return DatabaseUnavailable(f"the database cannot serve requests right now ({state}); try again shortly")
    if disconnected or isinstance(exc, OSError):
        return DatabaseUnavailable("the connection to the database was lost; try again shortly")
    return None


def _on_connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
    try:
        return dialect.connect(*cargs, **cparams)
    except Exception as exc:
        unavailable = connect_failure(exc)
        if unavailable is None:
            raise
        log.warning("database connection failed", error=_reason(exc))
        raise unavailable from exc


def _on_error(context: ExceptionContext) -> BaseException | None:
    exc = context.original_exception
    if context.is_pre_ping or not isinstance(exc, Exception):
        # Pre-ping: the pool reconnects on its own. CancelledError (a client gone, a shutdown) must
        # stay what it is for asyncio to work.
        return None
    state = _sqlstate(exc)
    if state in SHUTTING_DOWN or (state or "").startswith("08"):
        context.is_disconnect = True  # drop this connection and the pool's older ones
    unavailable = statement_failure(exc, disconnected=context.is_disconnect)
    if unavailable is not None:
        log.warning("database unavailable", error=_reason(exc))
    return unavailable


def translate_failures(engine: AsyncEngine) -> None:
    """Install both seams on a PostgreSQL engine."""
    event.listen(engine.sync_engine, "do_connect", _on_connect)
    event.listen(engine.sync_engine, "handle_error", _on_error)
