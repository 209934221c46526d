"""What every paragraph source offers: one paragraph of 50 sentences, as text."""

from __future__ import annotations

from typing import Protocol

from paragraphs.db.models import Source


class ParagraphSource(Protocol):
    source: Source

    async def fetch_paragraph(self) -> str:
        """One paragraph; raises `paragraphs.http.UpstreamFailure` when it cannot."""
        ...
