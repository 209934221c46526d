"""THE tokenizer: the one definition of a word, used by indexing, queries, counts and highlights.

Rules (docs/words.md):
- text is NFC-normalised, curly apostrophes (U+2019, U+2018, U+02BC) become `'`;
- a word is a run of Unicode letters and digits, each with the combining marks that follow it; an
  apostrophe between two such runs keeps them one word (`don't`, `o'clock`); every other character
  separates words;
- a trailing possessive `'s` is dropped (`zeitgeist's` -> `zeitgeist`, `it's` -> `it`) and words
  are lower-cased (Unicode-aware).
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import regex

# U+2019 right single quotation mark (the usual curly apostrophe), U+2018 left single quotation
# mark (often typed for it), U+02BC modifier letter apostrophe, U+FF07 fullwidth apostrophe.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\uff07": "'"})

# A word starts with a letter or digit; combining marks only follow one (a lone mark, or an emoji's
# variation selector U+FE0F, is not a word and does not glue onto the next one).
_PART = r"(?:[\p{L}\p{N}]\p{M}*)+"
_WORD = regex.compile(rf"{_PART}(?:'{_PART})*")
# The same pattern for ASCII text, lower-cased: there a letter or digit is [a-z0-9], no mark exists,
# NFC and the apostrophe mapping change nothing, and lower-casing keeps every offset.
_ASCII_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
# Every ASCII character a word cannot hold, as a space: what `_ascii_words` cuts the text at.
_ASCII_SEPARATORS = str.maketrans(
    {chr(code): " " for code in range(128) if chr(code) not in string.ascii_lowercase + string.digits + "'"}
)


# The same rules as JSON Schema patterns for the OpenAPI (ECMA-262 with Unicode properties, as JSON
# Schema validators read them). They agree with `words` but for U+02BC, a letter to Unicode and an
# apostrophe to us, and characters newer than a validator's Unicode tables (docs/words.md).
_LETTER = r"[\p{L}\p{N}]"
_RUN = rf"{_LETTER}[\p{{L}}\p{{N}}\p{{M}}]*"
_APOSTROPHE = r"['\u2019\u2018\u02bc\uff07]"
_NOT_A_LETTER = r"[^\p{L}\p{N}]"
ONE_WORD_PATTERN = rf"^{_NOT_A_LETTER}*{_RUN}(?:{_APOSTROPHE}{_RUN})*{_NOT_A_LETTER}*$"
# Lone surrogates (which JSON can carry, and no database stores) are refused too; the pattern leaves
# them out: a pattern cannot name them, and JSON generators do not make them.
HAS_A_WORD_PATTERN = rf"^[^\x00]*{_LETTER}[^\x00]*$"


@dataclass(frozen=True, slots=True)
class Token:
    """A word and where it stands in the *prepared* text (see `prepare`)."""

    word: str
    start: int
    end: int


def prepare(text: str) -> str:
    """NFC-normalise and unify apostrophes; offsets of `Token`s refer to this string.

    Both steps keep the text readable (no case change), so highlights can be cut from it.
    """
    return unicodedata.normalize("NFC", text).translate(_APOSTROPHES)


# Words repeat (Zipf): caching the per-match normalisation makes tokenizing ~3x faster.
@lru_cache(maxsize=200_000)
def _word_of(match: str) -> str:
    # Possessives go before lower-casing (in `ΟΔΟΣ'S` the Σ is final only once `'S` is gone), and
    # all of them (`x's's` is `x`, so every word re-tokenizes to itself). The pattern guarantees a
    # letter or digit before the first apostrophe, so the word never empties.
    while match.endswith(("'s", "'S")):
        match = match[:-2]
    return unicodedata.normalize("NFC", match.lower())


def tokens(text: str) -> Iterator[Token]:
    """Every word of `text` with its span in `prepare(text)`."""
    for match in _WORD.finditer(prepare(text)):
        yield Token(_word_of(match.group()), match.start(), match.end())


def words(text: str) -> list[str]:
    """The words of `text`, in order, repeats kept."""
    return _ascii_words(text) if text.isascii() else _unicode_words(text)


def _unicode_words(text: str) -> list[str]:
    return [_word_of(match) for match in _WORD.findall(prepare(text))]


def _ascii_words(text: str) -> list[str]:
    """`words` for ASCII text, ~6x faster (bulk intake tokenizes ~570 words a paragraph): the rules
    above give the same words, and for ASCII, lower-casing before dropping `'s` is the same as after.

    Every character but [a-z0-9'] separates words, so the text is cut there in C (translate, split)
    and only the rare pieces holding an apostrophe go through the pattern: a match never crosses a
    separator, so matching piece by piece finds what matching the whole text finds."""
    pieces = text.lower().translate(_ASCII_SEPARATORS).split()
    if "'" not in text:
        return pieces
    found: list[str] = []
    for piece in pieces:
        if "'" not in piece:
            found.append(piece)
            continue
        for word in _ASCII_WORD.findall(piece):
            found.append(_without_possessive(word) if word.endswith("'s") else word)
    return found


def _without_possessive(word: str) -> str:
    while word.endswith("'s"):
        word = word[:-2]
    return word


def word_counts(text: str) -> Counter[str]:
    """How often each word occurs in `text`."""
    return Counter(words(text))


def single_word(text: str) -> str | None:
    """The word `text` consists of, or None when it holds no word or more than one."""
    found = words(text)
    return found[0] if len(found) == 1 else None
