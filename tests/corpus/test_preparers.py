"""The preparer processes of bulk intake (`paragraphs/corpus/preparers.py`): the batches they answer are
the ones `batches.prepare` makes in-process, in the order sent, and no child outlives the intake."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from paragraphs.corpus import batches, preparers
from paragraphs.corpus.batches import Engine
from paragraphs.corpus.sources.offline import OfflineGenerator
from tests.corpus.test_bulk import EDGE_CASES
from tests.waiting import eventually


def running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


async def round_trip(children: preparers.Preparers, contents: list[str]) -> batches.PreparedBatch:
    await children.send(contents)
    return await children.receive()


def chunks() -> list[list[str]]:
    texts = [*OfflineGenerator(11).paragraphs(40, sentences=5), *EDGE_CASES, "", "   ", "\x00 nul", "x" * 100_001]
    return [texts[start : start + 7] for start in range(0, len(texts), 7)]


@pytest.mark.parametrize("engine", ["postgresql", "sqlite"])
async def test_batches_come_back_in_order_as_prepared_in_process(engine: Engine) -> None:
    sent = chunks()
    async with preparers.started(engine, processes=3) as children:
        for contents in sent[:4]:  # several in flight at each child before the first is received
            await children.send(contents)
        received = [await children.receive() for _ in range(4)]
        for contents in sent[4:]:
            await children.send(contents)
            received.append(await children.receive())
    assert received == [batches.prepare(contents, engine) for contents in sent]
    assert sum(batch.skipped for batch in received) == 4  # empty, blank, a NUL, too long


async def test_children_end_with_the_intake() -> None:
    async with preparers.started("sqlite", processes=2) as children:
        pids = children.pids
        assert all(running(pid) for pid in pids)
    assert not any(running(pid) for pid in pids)


async def test_a_child_that_dies_is_a_failure_not_a_hang() -> None:
    async with preparers.started("sqlite", processes=2) as children:
        await children.send(["one"])  # to the first child
        assert (await children.receive()).contents == ["one"]
        os.kill(children.pids[0], signal.SIGKILL)
        await eventually(lambda: not running(children.pids[0]))
        await children.send(["two"])  # to the second
        assert (await children.receive()).contents == ["two"]
        with pytest.raises(preparers.PreparerFailed, match=r"exit status -9"):
            await round_trip(children, ["three"])  # to the dead one: the write fails, or else the read


async def test_the_children_end_when_the_intake_fails_with_answers_unread(monkeypatch: pytest.MonkeyPatch) -> None:
    # Answers larger than a pipe holds: a child blocks writing them, never reads the end of its
    # input, and would be waited for (for ever, here) were it not stopped.
    monkeypatch.setattr(preparers, "EXIT_GRACE_S", 3600.0)
    contents = list(OfflineGenerator(3).paragraphs(200))
    pids: list[int] = []

    async def fail_with_answers_unread() -> None:
        async with preparers.started("postgresql", processes=2) as children:
            pids.extend(children.pids)
            for _ in range(4):
                await children.send(contents)
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        await fail_with_answers_unread()
    assert pids
    assert not any(running(pid) for pid in pids)
