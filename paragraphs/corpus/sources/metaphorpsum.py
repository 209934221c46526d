"""metaphorpsum.com: `GET {url}/paragraphs/1/50`, plain text, judged by its content, not its headers."""

from __future__ import annotations

from paragraphs.db.models import Source
from paragraphs.http import Upstream, UpstreamBadBody, UpstreamBadStatus

# A 1x50 paragraph is under 4 KB (docs/upstreams.md); the server can stream forever on bad input.
MAX_BODY_BYTES = 64 * 1024
# Share of letters among the non-space characters of real output is ~0.96; below this it is not prose.
MIN_LETTER_SHARE = 0.8


def prose_or_none(body: bytes) -> tuple[str | None, str]:
    """The paragraph in `body`, or None and why it is not one."""
    try:
        text = body.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None, "the answer is not UTF-8 text"
    if not text:
        return None, "the answer was empty"
    if text.startswith("<") or "<html" in text[:1024].lower():
        return None, "the answer was an HTML page, not a paragraph"
    visible = [char for char in text if not char.isspace()]
    letters = sum(char.isalpha() for char in visible)
    if letters / len(visible) < MIN_LETTER_SHARE:
        return None, "the answer was not prose (too few letters)"
    if "." not in text:
        return None, "the answer holds no sentence"
    return text, ""


class MetaphorpsumSource:
    source = Source.METAPHORPSUM

    def __init__(self, upstream: Upstream, base_url: str) -> None:
        self._upstream = upstream
        self._url = f"{base_url.rstrip('/')}/paragraphs/1/50"

    async def fetch_paragraph(self) -> str:
        response = await self._upstream.get(self._url)
        if response.status != 200:
            raise UpstreamBadStatus(self._upstream.name, response.status)
        text, why = prose_or_none(response.body)
        if text is None:
            raise UpstreamBadBody(self._upstream.name, why)
        return text
