"""The cost of one request is bounded before and while the app handles it (pure ASGI middleware).

- Size: a body longer than any valid request is answered 413 before the app, or a JSON parser, sees
  it: at once when `Content-Length` says so, otherwise as soon as the streamed bytes pass the limit.
- Disconnects: a read (GET, HEAD, POST /search) whose client goes away before the answer is cancelled
  (watched from WATCH_AFTER_S on), and with it the statement it is waiting on (asyncpg cancels it in the server; on SQLite the
  search's progress handler stops it, search/budget.py). Writes are never cancelled half-way: a write
  that reached its commit finishes even if nobody waits for the answer.
"""

from __future__ import annotations

import asyncio
import json

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paragraphs.corpus.limits import MAX_CONTENT_CHARS
from paragraphs.errors import PayloadTooLarge

log = structlog.get_logger(__name__)

# The longest valid request is a paragraph of MAX_CONTENT_CHARS characters, each written in JSON as
# an escaped surrogate pair (`\ud83d\ude00`, 12 bytes for one character beyond the BMP), plus the
# object around it; 64 KiB leaves room for whitespace and pretty-printing. 1,265,536 bytes.
MAX_BODY_BYTES = MAX_CONTENT_CHARS * 12 + 64 * 1024

CLIENT_CLOSED_REQUEST = 499
# A read answered sooner is never watched for a disconnect: the watcher is a task, and two tasks per
# request cost ~70 us of a cached GET's ~180 us (bench/RESULTS.md, "hot path"). A client that
# leaves an expensive search makes the server work at most this much longer.
WATCH_AFTER_S = 0.25
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
        messages, body = await read_body(receive, self.max_body_bytes)
        if messages[-1]["type"] == "http.disconnect":
            # The client left before its request was read (sending it, or waiting in a busy server):
            # nobody to answer, and the access log and /metrics say so (not the 500 of no answer).
            await _client_closed(send)
            return
        if body is None:
            await self._too_large(send)
            return
        if cancellable(scope):
            await self._run_cancellable(scope, body, receive, send)
        else:
            await self.app(scope, replay(_whole(body), receive), send)

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
        watch = _DisconnectWatch(receive, send)
        try:
            await self.app(scope, replay(_whole(body), watch.app_receive), watch.send)
        except asyncio.CancelledError:
            if not watch.cancelled_it():
                raise
            log.info("client went away, request cancelled", method=scope["method"], path=scope["path"])
            if not watch.started:
                await _client_closed(send)
        finally:
            await watch.stop()


class _DisconnectWatch:
    """Cancels the request's task (this one) if its client goes away before the answer is sent.

    The app runs in the request's own task; only a request still running after WATCH_AFTER_S gets a
    second task, which waits for the server's `http.disconnect`.
    """

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send
        self._task = asyncio.current_task()
        self._disconnected = asyncio.Event()
        self._cancelled = False
        self.started = False
        self.answered = False
        self._watcher: asyncio.Task[None] | None = None
        self._timer = asyncio.get_running_loop().call_later(WATCH_AFTER_S, self._start_watching)

    def _start_watching(self) -> None:
        self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        while (await self._receive())["type"] != "http.disconnect":
            pass
        self._disconnected.set()
        if not self.answered and self._task is not None:
            self._cancelled = True
            self._task.cancel()

    async def app_receive(self) -> Message:
        """What the app receives after the body: the disconnect, once the watcher has seen it."""
        await self._disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            self.answered = True
        await self._send(message)

    def cancelled_it(self) -> bool:
        """Whether the cancellation being raised is ours alone (not also the server stopping)."""
        return self._cancelled and self._task is not None and self._task.uncancel() == 0

    async def stop(self) -> None:
        self.answered = True  # from here on the watcher must not cancel the request's task
        self._timer.cancel()
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)


async def _client_closed(send: Send) -> None:
    """nginx's 499 "client closed request": what the access log and /metrics record for a request
    cancelled because its client left (the server drops the bytes: nobody is there to read them)."""
    await send({"type": "http.response.start", "status": CLIENT_CLOSED_REQUEST, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def read_body(receive: Receive, max_bytes: int) -> tuple[list[Message], bytes | None]:
    """The request's messages up to the body's end, and the body: None if it passed `max_bytes`
    (reading stops there) or the client left first (the last message is then `http.disconnect`)."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        size += len(message.get("body", b""))
        if size > max_bytes:
            return messages, None
        if not message.get("more_body", False):
            return messages, b"".join(m.get("body", b"") for m in messages)


def _whole(body: bytes) -> list[Message]:
    return [{"type": "http.request", "body": body, "more_body": False}]


def replay(messages: list[Message], receive: Receive) -> Receive:
    """`receive` that hands on the messages read already, then passes on to `receive`."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed
