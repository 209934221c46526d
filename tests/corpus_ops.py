"""Random corpora and random sequences of creates, updates and deletes, for property tests."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from paragraphs import text
from paragraphs.corpus import service as corpus_service
from paragraphs.db.engine import Database
from paragraphs.db.models import Source

VOCABULARY = [
    "one", "One", "ONE", "none", "ones", "someone", "don't", "Don’t", "DON'T", "don", "t",
    "café", "CAFÉ", "cafe\u0301", "cafe", "zeitgeist's", "zeitgeist", "Zeitgeist’s", "well-known",
    "well", "known", "42", "4", "o'clock", "it's", "it", "straße", "ΟΔΟΣ", "naïve", "x",
]  # fmt: skip
SEPARATORS = [" ", ", ", ". ", "-", " (", ") ", " “", "” ", "\n", " '", "' ", "; ", "!", "/", "_", "…"]

contents = st.lists(st.tuples(st.sampled_from(VOCABULARY), st.sampled_from(SEPARATORS)), min_size=1, max_size=12).map(
    lambda pairs: "".join(word + sep for word, sep in pairs)
)
QUERY_WORDS = sorted({word for item in VOCABULARY for word in text.words(item)})


@dataclass
class Op:
    kind: str  # create, update, delete
    content: str
    target: int  # index into the live paragraphs, for update/delete


ops = st.lists(
    st.builds(Op, st.sampled_from(["create", "create", "create", "update", "delete"]), contents, st.integers(0, 50)),
    min_size=1,
    max_size=12,
)
queries = st.tuples(st.lists(st.sampled_from(QUERY_WORDS), min_size=1, max_size=3), st.sampled_from(["and", "or"]))


async def apply(db: Database, operations: list[Op], live: dict[int, str] | None = None) -> dict[int, str]:
    """Run `operations` one transaction each; returns the live paragraphs (`live`, updated, if given)."""
    live = {} if live is None else live
    for op in operations:
        async with db.write() as session:
            if op.kind == "create" or not live:
                paragraph = await corpus_service.create_paragraph(session, op.content, Source.USER)
                live[paragraph.id] = op.content
                continue
            target = sorted(live)[op.target % len(live)]
            paragraph = await corpus_service.lock_paragraph(session, target)
            if op.kind == "update":
                await corpus_service.update_paragraph(session, paragraph, op.content)
                live[target] = op.content
            else:
                await corpus_service.delete_paragraph(session, paragraph)
                del live[target]
    return live
