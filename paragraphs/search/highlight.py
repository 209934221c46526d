"""Snippets around matched words: matches in <mark>...</mark>, everything else HTML-escaped."""

from __future__ import annotations

import html
from collections.abc import Collection

from paragraphs import text

MAX_SNIPPETS = 3
SNIPPET_WORDS = 20
ELLIPSIS = "…"


def _escape(fragment: str) -> str:
    # Element content needs only &, < and > escaped; quotes stay readable.
    return html.escape(fragment, quote=False)


def highlights(content: str, words: Collection[str]) -> list[str]:
    prepared = text.prepare(content)
    tokens = list(text.tokens(content))
    hits = [i for i, token in enumerate(tokens) if token.word in words]
    snippets: list[str] = []
    covered_until = -1
    for hit in hits:
        if hit <= covered_until:
            continue
        first = max(0, hit - SNIPPET_WORDS // 2)
        last = min(len(tokens), first + SNIPPET_WORDS) - 1
        snippets.append(_render(prepared, tokens, first, last, words))
        covered_until = last
        if len(snippets) == MAX_SNIPPETS:
            break
    return snippets


def _render(prepared: str, tokens: list[text.Token], first: int, last: int, words: Collection[str]) -> str:
    parts: list[str] = [ELLIPSIS] if first > 0 else []
    cursor = tokens[first].start if first > 0 else 0
    for token in tokens[first : last + 1]:
        parts.append(_escape(prepared[cursor : token.start]))
        piece = _escape(prepared[token.start : token.end])
        parts.append(f"<mark>{piece}</mark>" if token.word in words else piece)
        cursor = token.end
    end = tokens[last].end
    # Keep punctuation that directly follows the last word (`word.`, `word?!`), up to 3 characters.
    while (
        end < len(prepared) and end - tokens[last].end < 3 and not (prepared[end].isspace() or prepared[end].isalnum())
    ):
        end += 1
    parts.append(_escape(prepared[cursor:end]))
    if last < len(tokens) - 1:
        parts.append(ELLIPSIS)
    return "".join(parts)
