"""The cost of one request is bounded before and while the app handles it (pure ASGI middleware).

- Size: a body longer than any valid request is answered 413 before the app, or a JSON parser, sees
  it: at once when `Content-Length` says so, otherwise as soon as the streamed bytes pass the limit.
- Disconnects: a read (GET, HEAD, POST /search) whose client goes away before the answer is cancelled,
  and with it the statement it is waiting on (asyncpg cancels it in the server; on SQLite the
  search's progress handler stops it, search/budget.py). Writes are never cancelled half-way: a write
  that reached its commit finishes even if nobody waits for the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paragraphs.corpus.schemas import MAX_CONTENT_CHARS
from paragraphs.errors import PayloadTooLarge

log = structlog.get_logger(__name__)

# The longest valid request is a paragraph of MAX_CONTENT_CHARS characters, each written in JSON as
# an escaped surrogate pair (`\ud83d\ude00`, 12 bytes for one character beyond the BMP), plus the
# object around it; 64 KiB leaves room for whitespace and pretty-printing. 1,265,536 bytes.
MAX_BODY_BYTES = MAX_CONTENT_CHARS * 12 + 64 * 1024

CLIENT_CLOSED_REQUEST = 499
CANCELLABLE_METHODS = frozenset({"GET", "HEAD"})
CANCELLABLE_POSTS = frozenset({"/search"})


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def cancellable(scope: Scope) -> bool:
    method = scope["method"]
    return method in CANCELLABLE_METHODS or (method == "POST" and scope["path"] in CANCELLABLE_POSTS)


class RequestBudget:
    def __init__(self, app: ASGIApp, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await self._too_large(send)
            return
        try:
            body = await self._read_body(receive)
        except _ClientGone:
            return  # the client left while sending its request: nobody to answer
        if body is None:
            await self._too_large(send)
            return
        if cancellable(scope):
            await self._run_cancellable(scope, body, receive, send)
        else:
            await self.app(scope, _replay(body, receive), send)

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it passes the limit."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientGone
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _too_large(self, send: Send) -> None:
        error = PayloadTooLarge(
            f"the request body is larger than any valid request ({self.max_body_bytes:,} bytes at most); "
            "paragraphs hold at most 100,000 characters"
        )
        body = json.dumps({"detail": error.detail}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": error.status_code,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _run_cancellable(self, scope: Scope, body: bytes, receive: Receive, send: Send) -> None:
        disconnected = asyncio.Event()
        progress = {"started": False, "answered": False}

        async def app_receive() -> Message:
            await disconnected.wait()
            return {"type": "http.disconnect"}

        async def noting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                progress["started"] = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                progress["answered"] = True
            await send(message)

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            disconnected.set()

        async def handle() -> None:
            await self.app(scope, _replay(body, app_receive), noting_send)

        handling = asyncio.create_task(handle())
        watcher = asyncio.create_task(watch())
        try:
            await asyncio.wait({handling, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if handling.done() or progress["answered"] or not disconnected.is_set():
                await handling  # answered, or the watcher failed without a disconnect: let it finish
                return
            log.info("client went away, request cancelled", method=scope["method"], path=scope["path"])
            handling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await handling
            if not progress["started"]:
                await _client_closed(send)
        finally:
            watcher.cancel()
            if not handling.done():  # cancelled ourselves: the server is stopping
                handling.cancel()
            await asyncio.gather(watcher, handling, return_exceptions=True)


async def _client_closed(send: Send) -> None:
    """nginx's 499 "client closed request": what the access log and /metrics record for a request
    cancelled because its client left (the server drops the bytes: nobody is there to read them)."""
    await send({"type": "http.response.start", "status": CLIENT_CLOSED_REQUEST, "headers": []})
    await send({"type": "http.response.body", "body": b""})


class _ClientGone(Exception):
    pass


def _replay(body: bytes, receive: Receive) -> Receive:
    """`receive` that hands the app the body read already, then passes on to `receive`."""
    delivered = False

    async def replayed() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
