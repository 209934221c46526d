"""The offline paragraph generator: metaphorpsum-style sentences, no network, deterministic per seed.

Sentence frames and the opener mechanism follow metaphorpsum (MIT, (c) Kyle Stetz, via Sentencer);
the word lists in `words/` are our own. Each sentence: with probability 0.33 an opener, then one of
29 templates with its slots filled; first letter upper-cased; a full stop. Nouns and adjectives are
drawn with a Zipf-like spread over a fixed order, so a few are common, many rare:
what a benchmark needs to have rare, medium and common query words.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
from bisect import bisect
from collections.abc import Callable, Generator, Iterator
from functools import cache
from importlib import resources
from itertools import accumulate

from paragraphs.db.models import Source

OPENER_PROBABILITY = 0.33
# Zipf-Mandelbrot weights 1/(rank + OFFSET)^EXPONENT. Measured over 2,000 paragraphs: the most common
# noun is in ~60% of paragraphs (below the function words, as with metaphorpsum), ranks ~150-250 are
# in ~5% ("medium"), and the tail is in ~0.2% ("rare").
ZIPF_EXPONENT = 2.0
ZIPF_OFFSET = 50
# Fixed, seed-independent permutation of the word lists: which words are common never changes.
RANKING_SEED = 1_000_003

OPENERS = (
    "To be more specific,", "In recent years,", "However,", "If this was somewhat unclear,",
    "Framed in a different way,", "As far as we can estimate,", "Though we assume the latter,",
    "Far from the truth,", "Extending this logic,", "Recent controversy aside,", "Some assert that",
    "This is not to discredit the idea that", "We know that",
    "What we don't know for sure is whether or not", "The zeitgeist contends that",
    "Nowhere is it disputed that", "Unfortunately, that is wrong; on the contrary,",
    "It's an undeniable fact, really;", "This could be, or perhaps", "In modern times", "In ancient times",
)  # fmt: skip

TEMPLATES = (
    "the {N} is {aN}",
    "{aN} is {aJ} {N}",
    "the first {J} {N} is, in its own way, {aN}",
    "their {N} was, in this moment, {aJ} {N}",
    "{aN} is {aN} from the right perspective",
    "the literature would have us believe that {aJ} {N} is not but {aN}",
    "{aJ} {N} is {aN} of the mind",
    "the {J} {N} reveals itself as {aJ} {N} to those who look",
    "authors often misinterpret the {N} as {aJ} {N}, when in actuality it feels more like {aJ} {N}",
    "we can assume that any instance of {aN} can be construed as {aJ} {N}",
    "they were lost without the {J} {N} that composed their {N}",
    "the {J} {N} comes from {aJ} {N}",
    "{aN} can hardly be considered {aJ} {N} without also being {aN}",
    "few can name {aJ} {N} that isn't {aJ} {N}",
    "some posit the {J} {N} to be less than {J}",
    "{aN} of the {N} is assumed to be {aJ} {N}",
    "{aN} sees {aN} as {aJ} {N}",
    "the {N} of {aN} becomes {aJ} {N}",
    "{aN} is {aN}'s {N}",
    "{aN} is the {N} of {aN}",
    "{aJ} {N}'s {N} comes with it the thought that the {J} {N} is {aN}",
    "{Ns} are {J} {Ns}",
    "{J} {Ns} show us how {Ns} can be {Ns}",
    "before {Ns}, {Ns} were only {Ns}",
    "those {Ns} are nothing more than {Ns}",
    "some {J} {Ns} are thought of simply as {Ns}",
    "one cannot separate {Ns} from {J} {Ns}",
    "the {Ns} could be said to resemble {J} {Ns}",
    "{aJ} {N} without {Ns} is truly a {N} of {J} {Ns}",
)

# Articles follow the sound, not the spelling.
AN_EXCEPTIONS = ("hour", "honest", "heir", "honor", "herb")
A_EXCEPTIONS = ("uni", "use", "usu", "uti", "ubi", "euro", "ewe", "one", "once", "ukelele", "uniform")
AN_LETTERS = frozenset("aeiou")
SPELLED_ABBREVIATION_AN = frozenset("AEFHILMNORSX")

IRREGULAR_PLURALS = {
    "child": "children", "person": "people", "man": "men", "woman": "women", "mouse": "mice",
    "goose": "geese", "tooth": "teeth", "foot": "feet", "ox": "oxen", "cactus": "cacti",
    "knife": "knives", "wife": "wives", "leaf": "leaves", "calf": "calves", "wolf": "wolves",
    "loaf": "loaves", "scarf": "scarves", "elf": "elves", "shelf": "shelves", "thief": "thieves",
    "potato": "potatoes", "tomato": "tomatoes", "hero": "heroes", "volcano": "volcanoes",
}  # fmt: skip
UNCHANGED_PLURALS = frozenset({"sheep", "fish", "deer", "series", "species", "moose", "bison", "salmon", "trout"})


def article(word: str) -> str:
    """`a` or `an` for `word`, by how it sounds."""
    lower = word.lower()
    if word.isupper() and len(word) > 1:  # an abbreviation, spelled out: an ATM, an MBA, a UFO
        return "an" if word[0] in SPELLED_ABBREVIATION_AN else "a"
    if lower.startswith(AN_EXCEPTIONS):
        return "an"
    if lower.startswith(A_EXCEPTIONS):
        return "a"
    return "an" if lower[0] in AN_LETTERS else "a"


def plural(noun: str) -> str:
    """The plural of `noun`; compounds (`sister-in-law`) inflect their head, simplified to the first part."""
    if "-" in noun:
        head, rest = noun.split("-", 1)
        return f"{plural(head)}-{rest}" if rest.startswith(("in-", "of-")) else f"{head}-{plural(rest)}"
    lower = noun.lower()
    if lower in UNCHANGED_PLURALS:
        return noun
    if lower in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[lower]
    if noun.isupper():
        return noun + "s"
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    if lower.endswith("y") and len(lower) > 1 and lower[-2] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


@cache
def _with_article(word: str) -> str:
    return f"{article(word)} {word}"


@cache
def _plural(noun: str) -> str:
    return plural(noun)


@cache
def _ranked(name: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
    text = resources.files("paragraphs.corpus.sources").joinpath(f"words/{name}.txt").read_text(encoding="utf-8")
    words = sorted({line.strip() for line in text.splitlines() if line.strip()})
    random.Random(RANKING_SEED).shuffle(words)
    weights = [1.0 / (rank + ZIPF_OFFSET) ** ZIPF_EXPONENT for rank in range(1, len(words) + 1)]
    return tuple(words), tuple(accumulate(weights))


class OfflineGenerator:
    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed)
        nouns, noun_weights = _ranked("nouns")
        adjectives, adjective_weights = _ranked("adjectives")
        draw = self._random.random
        # `choices(words, cum_weights=weights)[0]` inlined as CPython's random.py computes it (the
        # same draw, the same bisect): the same words, ~2x faster; `paragraphs seed` spends its
        # generator's time here.
        noun_total, noun_last = noun_weights[-1] + 0.0, len(nouns) - 1
        adjective_total, adjective_last = adjective_weights[-1] + 0.0, len(adjectives) - 1

        def noun() -> str:
            return nouns[bisect(noun_weights, draw() * noun_total, 0, noun_last)]

        def adjective() -> str:
            return adjectives[bisect(adjective_weights, draw() * adjective_total, 0, adjective_last)]

        self._slots: dict[str, Callable[[], str]] = {
            "N": noun,
            "aN": lambda: _with_article(noun()),
            "Ns": lambda: _plural(noun()),
            "J": adjective,
            "aJ": lambda: _with_article(adjective()),
        }
        # Literal text as is, slots as the functions that fill them, left to right (the draw order).
        self._templates: list[list[str | Callable[[], str]]] = [
            [part if i % 2 == 0 else self._slots[part] for i, part in enumerate(self._compile(template))]
            for template in TEMPLATES
        ]

    @staticmethod
    def _compile(template: str) -> list[str]:
        """Literal text and slot names, alternating: `the {N} is` -> ["the ", "N", " is"]."""
        parts: list[str] = []
        rest = template
        while "{" in rest:
            literal, _, after = rest.partition("{")
            slot, _, rest = after.partition("}")
            parts += [literal, slot]
        parts.append(rest)
        return parts

    def sentence(self) -> str:
        parts = self._random.choice(self._templates)
        filled = "".join([part if isinstance(part, str) else part() for part in parts])
        if self._random.random() < OPENER_PROBABILITY:
            filled = f"{self._random.choice(OPENERS)} {filled}"
        return f"{filled[0].upper()}{filled[1:]}."

    def paragraph(self, sentences: int = 50) -> str:
        return " ".join(self.sentence() for _ in range(sentences))

    def paragraphs(self, count: int, sentences: int = 50) -> Iterator[str]:
        for _ in range(count):
            yield self.paragraph(sentences)


class OfflineSource:
    """The paragraph source of `PARAGRAPHS_OFFLINE=true`: `POST /fetch` without a network."""

    source = Source.OFFLINE

    def __init__(self, seed: int | None = None) -> None:
        self._generator = OfflineGenerator(seed)

    async def fetch_paragraph(self) -> str:
        return self._generator.paragraph()


GENERATOR_MODULE = "paragraphs.corpus.sources.offline"
# Paragraphs per write to the pipe, and the reader's buffer: ~3 KB a paragraph, so both ends make a
# system call per ~100 paragraphs rather than per 8 KB.
_LINES_PER_WRITE = 100
_PIPE_BUFFER_BYTES = 1 << 20


def _write_paragraphs(seed: int | None, count: int, sentences: int) -> None:
    """The child of `paragraphs_in_background`: the paragraphs on stdout, one a line, UTF-8."""
    out = sys.stdout.buffer
    lines: list[str] = []
    for paragraph in OfflineGenerator(seed).paragraphs(count, sentences):
        if "\n" in paragraph:  # never: no template, opener or word holds one
            raise ValueError("a generated paragraph holds a newline")
        lines.append(paragraph)
        if len(lines) == _LINES_PER_WRITE:
            out.write(("\n".join(lines) + "\n").encode())
            lines = []
    if lines:
        out.write(("\n".join(lines) + "\n").encode())
    out.flush()


def paragraphs_in_background(seed: int | None, count: int, sentences: int = 50) -> Generator[str, None, None]:
    """`OfflineGenerator(seed).paragraphs(count)`, the same texts in the same order, generated by a
    child process: `paragraphs seed` then writes on one core while the text is made on the other.

    The child is `python -m` this module, writing to a pipe: it imports this module alone, where a
    multiprocessing child re-imports the parent's main module (the whole CLI: ~1.2 s of CPU)."""
    arguments = ["none" if seed is None else str(seed), str(count), str(sentences)]
    process = subprocess.Popen(  # noqa: S603 - our interpreter, our module
        [sys.executable, "-m", GENERATOR_MODULE, *arguments], stdout=subprocess.PIPE, bufsize=_PIPE_BUFFER_BYTES
    )
    assert process.stdout is not None  # noqa: S101 - stdout=PIPE
    made = 0
    try:
        for line in process.stdout:
            yield line[:-1].decode()
            made += 1
        if process.wait() != 0 or made != count:
            raise RuntimeError(
                f"the offline generator stopped after {made} of {count} paragraphs (exit status {process.returncode})"
            )
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait()
        process.stdout.close()


if __name__ == "__main__":
    # Ctrl-C reaches the whole process group, and the parent may stop reading early: the parent
    # reports, the child just ends (no traceback of its own).
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if hasattr(signal, "SIGPIPE"):  # not on Windows
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    seed_argument, count_argument, sentences_argument = sys.argv[1:4]
    _write_paragraphs(
        None if seed_argument == "none" else int(seed_argument), int(count_argument), int(sentences_argument)
    )
