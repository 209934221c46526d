"""How a metaphorpsum answer is judged: by its content, never by its Content-Type."""

from __future__ import annotations

import pytest

from paragraphs.corpus.sources.metaphorpsum import prose_or_none

REAL = (
    b"The unstrung leo comes from a toeless snowflake. Nowhere is it disputed that before hallwaies, "
    b"alloies were only dragonflies. A meat's party is an ATM of the mind."
)


class TestProseOrNone:
    def test_real_output_is_prose(self) -> None:
        text, why = prose_or_none(REAL)
        assert text == REAL.decode()
        assert why == ""

    def test_surrounding_whitespace_is_stripped(self) -> None:
        assert prose_or_none(b"\n  " + REAL + b"\n\n")[0] == REAL.decode()

    @pytest.mark.parametrize(
        ("body", "reason"),
        [
            (b"", "empty"),
            (b"   \n\t ", "empty"),
            (b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "HTML"),
            (b"<p>The harbor is a lantern.</p>", "HTML"),
            (b"Error 522 <html>origin down</html>", "HTML"),
            (b"\x00\x01\x02\xff\xfe", "UTF-8"),
            (b"{}[]{}[]{}[]0123456789 === ### ...", "prose"),
            (b"the harbor is a lantern with no full stop", "sentence"),
        ],
    )
    def test_garbage_is_refused_with_a_reason(self, body: bytes, reason: str) -> None:
        text, why = prose_or_none(body)
        assert text is None
        assert reason in why
