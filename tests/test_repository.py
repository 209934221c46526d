"""The repository stands alone: a fresh clone has everything the code, the tests and the docs refer to."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Built from parts so that this file does not match itself.
_SHARED = "shared" + "/"
OUTSIDE_PATH = re.compile(
    r"\.\./" + _SHARED
    + r"|(?<![\w/])" + _SHARED + r"(design|upstreams|style)\.md"
    + r"|(?<![\w/])" + _SHARED + "fixtures"
    + r"""|/ ["']shared["'] /"""  # a pathlib join of that folder
)  # fmt: skip


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"],  # noqa: S607 - git from PATH, as a developer runs it
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    return [ROOT / name for name in listed.stdout.decode().split("\0") if name]


class TestStandsAlone:
    def test_no_tracked_file_reads_or_cites_a_path_outside_the_repository(self) -> None:
        offenders = []
        for path in tracked_files():
            if not path.is_file():
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            offenders += [
                f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
                for n, line in enumerate(text.splitlines(), 1)
                if OUTSIDE_PATH.search(line)
            ]
        assert offenders == []

    def test_the_pattern_finds_what_it_is_for(self) -> None:
        assert OUTSIDE_PATH.search("FIXTURES = ROOT / '..' / '../" + _SHARED + "fixtures'")
        assert OUTSIDE_PATH.search("(see " + _SHARED + "design.md §4)")
        assert OUTSIDE_PATH.search("copied from " + _SHARED + "fixtures")
        assert OUTSIDE_PATH.search('FIXTURES = Path(__file__).parents[3] / "shar' + 'ed" / "fixtures"')
        assert not OUTSIDE_PATH.search("structlog set-up shared by API and CLI")
        assert not OUTSIDE_PATH.search("docs/upstreams.md")

    def test_the_recorded_upstream_bodies_are_in_the_repository(self) -> None:
        fixtures = ROOT / "tests" / "fixtures"
        assert (fixtures / "dictionaryapi_404.json").read_bytes().startswith(b'{"title":"No Definitions Found"')
        assert '"/həˈləʊ/"' in (fixtures / "dictionaryapi_hello.json").read_text(encoding="utf-8")

    def test_every_doc_the_readme_links_exists(self) -> None:
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        links = re.findall(r"\]\(((?:docs/)?[\w./-]+\.md)\)", readme)
        assert links
        assert [link for link in links if not (ROOT / link).is_file()] == []
