"""bench/RESULTS.md: each benchmark rewrites its own section and leaves the others alone."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).parent / "RESULTS.md"
TITLE = "# Benchmark results\n\nEach section is written by its benchmark (`make bench`); see the command in it.\n"


def write_section(name: str, body: str) -> None:
    current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else TITLE
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = f"<!-- {name}:start -->\n## {name} (measured {stamp})\n\n{body}\n<!-- {name}:end -->"
    pattern = re.compile(rf"<!-- {name}:start -->.*?<!-- {name}:end -->", re.DOTALL)
    updated = (
        pattern.sub(lambda _match: section, current)
        if pattern.search(current)
        else f"{current.rstrip()}\n\n{section}\n"
    )
    RESULTS.write_text(updated, encoding="utf-8")
