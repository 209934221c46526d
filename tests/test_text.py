"""The tokenizer (design §3): one definition of a word for counts, search, queries and highlights."""

from __future__ import annotations

import unicodedata
from collections import Counter

import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st

from paragraphs.text import prepare, single_word, tokens, word_counts, words


class TestCase:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("Café CAFÉ café", ["café", "café", "café"]),
            ("HELLO World", ["hello", "world"]),
            ("ΟΔΟΣ Οδός", ["οδος", "οδός"]),
            ("МОСКВА", ["москва"]),
            ("STRASSE Straße", ["strasse", "straße"]),  # lower-casing, not case folding: ß stays ß
        ],
    )
    def test_unicode_lower_casing(self, text: str, expected: list[str]) -> None:
        assert words(text) == expected


class TestNormalisation:
    def test_decomposed_equals_composed(self) -> None:
        assert words("cafe\u0301") == words("café") == ["café"]
        assert single_word("CAFE\u0301") == "café"

    def test_prepare_keeps_case_and_offsets_readable(self) -> None:
        assert prepare("Don’t") == "Don't"


class TestApostrophes:
    @pytest.mark.parametrize("apostrophe", ["'", "\u2019", "\u2018", "\u02bc", "\uff07"])
    def test_inside_a_word_keeps_it_whole(self, apostrophe: str) -> None:
        assert words(f"Don{apostrophe}t stop at o{apostrophe}clock") == ["don't", "stop", "at", "o'clock"]

    def test_several_inner_apostrophes(self) -> None:
        assert words("rock'n'roll") == ["rock'n'roll"]

    @pytest.mark.parametrize(
        ("text", "expected"),
        [("'tis", ["tis"]), ("James'", ["james"]), ("'quoted'", ["quoted"]), ("''", []), ("a''b", ["a", "b"])],
    )
    def test_leading_trailing_and_doubled_apostrophes_separate(self, text: str, expected: list[str]) -> None:
        assert words(text) == expected


class TestPossessive:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("zeitgeist's", ["zeitgeist"]),
            ("Zeitgeist’s", ["zeitgeist"]),
            ("ZEITGEIST'S", ["zeitgeist"]),
            ("it's", ["it"]),
            ("don't", ["don't"]),
            ("a meat's party", ["a", "meat", "party"]),
            ("o'clock's", ["o'clock"]),
        ],
    )
    def test_trailing_s_is_dropped_once(self, text: str, expected: list[str]) -> None:
        assert words(text) == expected


class TestSeparators:
    @pytest.mark.parametrize(
        "text",
        ["one,", "(one)", "“one”", "one.", "one...", "«one»", "one!", "one?", "one;", "-one-", "*one*", "\tone\n"],
    )
    def test_punctuation_around_a_word(self, text: str) -> None:
        assert words(text) == ["one"]

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("well-known", ["well", "known"]),
            ("a/b", ["a", "b"]),
            ("snake_case", ["snake", "case"]),
            ("em—dash", ["em", "dash"]),
            ("emoji🙂smile", ["emoji", "smile"]),
            ("line\nbreak", ["line", "break"]),
        ],
    )
    def test_everything_else_separates(self, text: str, expected: list[str]) -> None:
        assert words(text) == expected


class TestNumbers:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [("42", ["42"]), ("3.14", ["3", "14"]), ("1,000", ["1", "000"]), ("٤٢", ["٤٢"]), ("R2D2", ["r2d2"])],
    )
    def test_numbers_are_words(self, text: str, expected: list[str]) -> None:
        assert words(text) == expected


class TestWholeWords:
    def test_substrings_are_not_words(self) -> None:
        found = set(words("none someone ones"))
        assert "one" not in found
        assert found == {"none", "someone", "ones"}


class TestOtherScripts:
    def test_combining_marks_stay_in_the_word(self) -> None:
        assert words("नमस्ते दुनिया") == ["नमस्ते", "दुनिया"]

    def test_cjk_runs(self) -> None:
        assert words("東京 タワー") == ["東京", "タワー"]


class TestTokens:
    def test_spans_point_into_the_prepared_text(self) -> None:
        text = "Don’t (STOP) the zeitgeist's café!"
        prepared = prepare(text)
        found = list(tokens(text))
        assert [t.word for t in found] == words(text)
        assert [prepared[t.start : t.end] for t in found] == ["Don't", "STOP", "the", "zeitgeist's", "café"]


class TestSingleWord:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("don't", "don't"),
            (" hello ", "hello"),
            ("NEAR", "near"),
            ("a-b", None),
            ('"', None),
            ("", None),
            ("two words", None),
            ("Zeitgeist's", "zeitgeist"),
        ],
    )
    def test_exactly_one_word_or_none(self, text: str, expected: str | None) -> None:
        assert single_word(text) == expected


WORD_CHARS = regex.compile(r"[\p{L}\p{N}\p{M}']+")
ALPHABET = st.sampled_from(
    [*"abcXYZéÉß0129 \t\n.,;:!?-_/()\"'’‘ʼ“”", "\u0301", "Σ", "ς", "İ", "ǅ", "٣", "🙂", "—", "e"]
)
texts = st.text(alphabet=ALPHABET, max_size=60) | st.text(max_size=40)


class TestProperties:
    @given(texts)
    def test_idempotent(self, text: str) -> None:
        found = words(text)
        assert words(" ".join(found)) == found

    @given(texts)
    def test_every_word_is_clean(self, text: str) -> None:
        for word in words(text):
            assert word
            assert unicodedata.normalize("NFC", word) == word
            assert not any(char.isspace() for char in word)
            assert not word.startswith("'")
            assert not word.endswith("'")
            # Letters, digits and marks by the `regex` module's Unicode tables, which are newer than
            # Python 3.11's `unicodedata` (U+13440 is a mark in Unicode 15, unassigned in 14).
            assert WORD_CHARS.fullmatch(word), word

    @given(st.text(alphabet=st.characters(max_codepoint=127), max_size=60))
    def test_ascii_case_does_not_matter(self, text: str) -> None:
        assert words(text.upper()) == words(text.lower())

    @given(
        st.lists(st.sampled_from(["alpha", "beta", "don't", "42", "café"]), max_size=8),
        st.sampled_from([" ", ", ", " - ", "; ", "\n", " (", ") "]),
    )
    def test_separators_join_word_lists(self, items: list[str], separator: str) -> None:
        assert words(separator.join(items)) == items

    @given(texts)
    def test_counts_agree_with_words(self, text: str) -> None:
        assert word_counts(text) == Counter(words(text))
        assert sum(word_counts(text).values()) == len(words(text))

    @given(texts)
    def test_every_word_is_a_single_word(self, text: str) -> None:
        for word in words(text):
            assert single_word(word) == word
