"""Child processes that prepare the bulk intake's batches (`batches.prepare`): tokenizing and building
index entries is most of the intake's CPU (~0.5 ms a paragraph of ~570 words), and in the intake's
own process it took turns with everything else there (reading, the database driver, the COPY data).

Each child is `python -m` this module (it imports `batches`, the tokenizer and `search/tsvector.py`:
~0.1 s, where a multiprocessing child would re-import the parent's main module, the whole CLI). Both
ways the pipes carry frames: an 8-byte big-endian length, then a pickle: a list of contents to the
child, their `PreparedBatch` back. Batches go to the children in turn and every child answers in the
order it was asked, so `receive` gives the batches in the order they were sent. The frames are ours,
from our own child over its pipe: nothing else can write to it.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import struct
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import BinaryIO

from paragraphs.corpus.batches import Engine, PreparedBatch, prepare

MODULE = "paragraphs.corpus.preparers"
_LENGTH = struct.Struct(">Q")
_READ_BUFFER_BYTES = 1 << 20
EXIT_GRACE_S = 5.0  # for a child to finish its batch and exit once its input ended  # a batch of 1,000 paragraphs comes back as ~7 MB (PostgreSQL's vectors)


class PreparerFailed(RuntimeError):
    """A preparer process ended before answering (its traceback is on standard error)."""


def default_processes() -> int:
    """One per core, at most 4: they share the cores with the intake, the database and (seed) the
    generator, and the scheduler fills every core that way (2 cores, `bench/ingest.py --preparers`:
    2 processes ~1,750-1,860 paragraphs/s into PostgreSQL, 1 process ~1,330-1,460)."""
    return max(1, min(4, os.cpu_count() or 1))


class Preparers:
    def __init__(self, processes: list[asyncio.subprocess.Process]) -> None:
        self._processes = processes
        self._sent = 0
        self._received = 0

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self._processes]

    async def send(self, contents: list[str]) -> None:
        """Hand `contents` to the next child in turn."""
        process = self._processes[self._sent % len(self._processes)]
        assert process.stdin is not None  # noqa: S101 - stdin=PIPE
        data = pickle.dumps(contents, protocol=pickle.HIGHEST_PROTOCOL)
        process.stdin.write(_LENGTH.pack(len(data)) + data)
        try:
            await process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            raise await self._failed(process) from None
        self._sent += 1

    async def receive(self) -> PreparedBatch:
        """The batch of the earliest `send` not yet received."""
        if self._received >= self._sent:
            raise RuntimeError("receive() without a batch sent")
        process = self._processes[self._received % len(self._processes)]
        assert process.stdout is not None  # noqa: S101 - stdout=PIPE
        try:
            (size,) = _LENGTH.unpack(await process.stdout.readexactly(_LENGTH.size))
            data = await process.stdout.readexactly(size)
        except asyncio.IncompleteReadError:
            raise await self._failed(process) from None
        self._received += 1
        batch: PreparedBatch = pickle.loads(data)  # noqa: S301 - our child's answer over its own pipe
        return batch

    async def _failed(self, process: asyncio.subprocess.Process) -> PreparerFailed:
        status = await process.wait()
        return PreparerFailed(f"a batch preparer process stopped (exit status {status})")

    async def _close(self) -> None:
        # Answers sent for and never read (the intake failed): their children may be blocked writing
        # them to a full pipe and would never read the end of their input, so they are stopped.
        abandoned = self._received < self._sent
        for process in self._processes:
            if abandoned and process.returncode is None:
                process.kill()
            elif process.stdin is not None and not process.stdin.is_closing():
                process.stdin.close()  # end of input: the child finishes and exits
        for process in self._processes:
            if abandoned and process.stdout is not None:
                # Read the unread answers to the end: a reader whose buffer filled has stopped reading
                # the pipe, would never see it close, and `wait()` waits for that too (seen: a hang).
                await process.stdout.read()
            try:
                await asyncio.wait_for(process.wait(), timeout=EXIT_GRACE_S)
            except TimeoutError:
                process.kill()
                await process.wait()


@asynccontextmanager
async def started(engine: Engine, processes: int | None = None) -> AsyncIterator[Preparers]:
    """`processes` children (default: `default_processes()`), stopped on the way out, also on a failure."""
    children: list[asyncio.subprocess.Process] = []
    preparers = Preparers(children)
    try:
        for _ in range(processes or default_processes()):
            children.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    MODULE,
                    engine,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    limit=_READ_BUFFER_BYTES,
                )
            )
        yield preparers
    finally:
        await asyncio.shield(preparers._close())


def _serve(engine: Engine, requests: BinaryIO, answers: BinaryIO) -> None:
    """The child: prepare each batch read from `requests`, answer on `answers`, until end of input."""
    while header := requests.read(_LENGTH.size):
        (size,) = _LENGTH.unpack(header)
        contents = pickle.loads(requests.read(size))  # noqa: S301 - our parent's request over our own pipe
        data = pickle.dumps(prepare(contents, engine), protocol=pickle.HIGHEST_PROTOCOL)
        answers.write(_LENGTH.pack(len(data)))
        answers.write(data)
        answers.flush()


if __name__ == "__main__":
    # Ctrl-C reaches the whole process group: the parent reports, the child just ends.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if hasattr(signal, "SIGPIPE"):  # not on Windows
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    engine = sys.argv[1]
    if engine not in ("sqlite", "postgresql"):
        raise SystemExit(f"usage: python -m {MODULE} sqlite|postgresql")
    _serve("postgresql" if engine == "postgresql" else "sqlite", sys.stdin.buffer, sys.stdout.buffer)
