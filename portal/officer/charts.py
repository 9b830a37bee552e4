"""Horizontal bar charts, laid out here and drawn by the template as inline SVG.

No script and no inline style (the CSP allows neither): the geometry is in SVG
attributes, the colours are ``fill`` attributes and classes. Every chart is shown with
a table of the same figures, which is the accessible form of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
LABEL_WIDTH = 230  # category names, right-aligned against the bars
VALUE_ROOM = 110  # room for the value written after the longest bar
BAR_HEIGHT = 18
BAR_GAP = 4  # between the bars of one category
GROUP_GAP = 14  # between categories
LEGEND_HEIGHT = 28
FONT_SIZE = 14

# Colours with at least 3:1 contrast on white (WCAG 1.4.11), told apart by lightness too.
PALETTE = ("#1d70b8", "#505a5f")


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]
    texts: Sequence[str]  # each value as the page writes it


@dataclass(frozen=True)
class PlacedBar:
    x: int
    y: int
    width: int
    height: int
    colour: str
    series_index: int
    value_x: int
    text_y: int
    text: str


@dataclass(frozen=True)
class PlacedLabel:
    x: int
    y: int
    text: str


@dataclass(frozen=True)
class LegendKey:
    x: int
    y: int
    colour: str
    series_index: int
    text_x: int
    text_y: int
    text: str


@dataclass(frozen=True)
class BarChart:
    chart_id: str
    title: str
    summary: str
    width: int
    height: int
    bars: list[PlacedBar]
    labels: list[PlacedLabel]
    legend: list[LegendKey]
    font_size: int = FONT_SIZE


def bar_chart(
    chart_id: str, title: str, summary: str, categories: Sequence[str], series: Sequence[Series]
) -> BarChart:
    """Lay out one bar per series for each category, scaled to the largest value.

    ``summary`` is what the chart shows, in a sentence, for screen readers."""
    if not series or any(len(s.values) != len(categories) for s in series):
        raise ValueError("each series needs one value per category")
    top = LEGEND_HEIGHT if len(series) > 1 else 0
    plot = WIDTH - LABEL_WIDTH - VALUE_ROOM
    largest = max([max(s.values, default=0) for s in series] + [1])
    group = len(series) * BAR_HEIGHT + (len(series) - 1) * BAR_GAP
    bars, labels = [], []
    for c, category in enumerate(categories):
        y0 = top + c * (group + GROUP_GAP)
        labels.append(PlacedLabel(LABEL_WIDTH - 8, y0 + group // 2 + FONT_SIZE // 3, category))
        for s, one in enumerate(series):
            value = max(0, one.values[c])
            width = round(plot * value / largest) if value else 0
            y = y0 + s * (BAR_HEIGHT + BAR_GAP)
            bars.append(
                PlacedBar(
                    x=LABEL_WIDTH,
                    y=y,
                    width=max(width, 1) if value else 0,
                    height=BAR_HEIGHT,
                    colour=PALETTE[s % len(PALETTE)],
                    series_index=s % len(PALETTE),
                    value_x=LABEL_WIDTH + width + 6,
                    text_y=y + BAR_HEIGHT - 4,
                    text=one.texts[c],
                )
            )
    legend = [
        LegendKey(
            x=LABEL_WIDTH + s * 160,
            y=4,
            colour=PALETTE[s % len(PALETTE)],
            series_index=s % len(PALETTE),
            text_x=LABEL_WIDTH + s * 160 + 20,
            text_y=4 + FONT_SIZE,
            text=one.name,
        )
        for s, one in enumerate(series)
        if len(series) > 1
    ]
    height = top + len(categories) * (group + GROUP_GAP)
    return BarChart(chart_id, title, summary, WIDTH, max(height, 1), bars, labels, legend)
