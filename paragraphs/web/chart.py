"""The words chart: horizontal bars, drawn on the server as SVG numbers the template places."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

LABEL_WIDTH = 110
BAR_AREA = 340
VALUE_WIDTH = 90
BAR_HEIGHT = 22
GAP = 8
TOP = 4


@dataclass(frozen=True)
class Bar:
    word: str
    count: int
    y: int
    width: int
    text_y: int


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    width: int
    height: int
    label_width: int
    bar_x: int


def bar_chart(counts: Sequence[tuple[str, int]]) -> Chart:
    """One bar per word, the longest for the largest count; every bar at least 2 units wide."""
    largest = max((count for _, count in counts), default=0)
    bars = []
    for i, (word, count) in enumerate(counts):
        y = TOP + i * (BAR_HEIGHT + GAP)
        width = max(2, round(BAR_AREA * count / largest)) if largest else 2
        bars.append(Bar(word=word, count=count, y=y, width=width, text_y=y + BAR_HEIGHT // 2 + 5))
    height = TOP * 2 + len(bars) * (BAR_HEIGHT + GAP)
    return Chart(
        bars=bars,
        width=LABEL_WIDTH + BAR_AREA + VALUE_WIDTH,
        height=height,
        label_width=LABEL_WIDTH,
        bar_x=LABEL_WIDTH,
    )
