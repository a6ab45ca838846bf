"""Server-side inline SVG charts: horizontal bars with CI whiskers, a trend line, heat-map colours.

Pure functions of already-computed figures (no statistics here); text is escaped; the SVGs scale with
their container (viewBox) so they stay readable on a phone and in print.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # percent; None = suppressed
    low: float | None = None
    high: float | None = None
    target: float | None = None


def _x(value: float, left: float, width: float) -> float:
    return left + width * max(0.0, min(100.0, value)) / 100.0


def bar_chart(bars: Sequence[Bar], *, title: str, width: int = 640) -> Markup:
    """Horizontal bars (0–100%) with the confidence interval as a whisker and the target as a tick."""
    row, left, right = 34, 230, 60
    plot = width - left - right
    height = row * len(bars) + 30
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for tick in (0, 25, 50, 75, 100):
        x = _x(tick, left, plot)
        parts.append(f'<line x1="{x:.1f}" y1="4" x2="{x:.1f}" y2="{height - 22}" class="grid"/>'
                     f'<text x="{x:.1f}" y="{height - 6}" class="axis" text-anchor="middle">{tick}%</text>')
    for i, b in enumerate(bars):
        y = 8 + i * row
        label = b.label if len(b.label) <= 34 else b.label[:33] + "…"
        parts.append(f'<text x="{left - 8}" y="{y + 16}" class="lbl" text-anchor="end">{escape(label)}</text>')
        if b.value is None:
            parts.append(f'<text x="{left + 4}" y="{y + 16}" class="na">— không đủ số phiếu</text>')
            continue
        parts.append(f'<rect x="{left}" y="{y + 4}" width="{_x(b.value, 0, plot):.1f}" height="18" class="bar"/>')
        if b.low is not None and b.high is not None:
            x1, x2 = _x(b.low, left, plot), _x(b.high, left, plot)
            parts.append(f'<line x1="{x1:.1f}" y1="{y + 13}" x2="{x2:.1f}" y2="{y + 13}" class="ci"/>'
                         f'<line x1="{x1:.1f}" y1="{y + 7}" x2="{x1:.1f}" y2="{y + 19}" class="ci"/>'
                         f'<line x1="{x2:.1f}" y1="{y + 7}" x2="{x2:.1f}" y2="{y + 19}" class="ci"/>')
        if b.target is not None:
            xt = _x(b.target, left, plot)
            parts.append(f'<line x1="{xt:.1f}" y1="{y}" x2="{xt:.1f}" y2="{y + 26}" class="target"/>')
        parts.append(f'<text x="{left + plot + 6}" y="{y + 17}" class="val">{b.value:.1f}%</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above


def trend_line(points: Sequence[tuple[str, float | None]], *, title: str, width: int = 640, height: int = 200) -> Markup:
    """Values (percent) over consecutive periods; gaps where a period is suppressed."""
    left, right, top, bottom = 40, 20, 14, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(points), 1)
    def px(i: int) -> float:
        return left + (plot_w * (i + 0.5) / n)
    def py(v: float) -> float:
        return top + plot_h * (1 - max(0.0, min(100.0, v)) / 100)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for tick in (0, 50, 100):
        parts.append(f'<line x1="{left}" y1="{py(tick):.1f}" x2="{width - right}" y2="{py(tick):.1f}" class="grid"/>'
                     f'<text x="{left - 4}" y="{py(tick) + 4:.1f}" class="axis" text-anchor="end">{tick}</text>')
    coords = [(px(i), py(v)) for i, (_, v) in enumerate(points) if v is not None]
    if len(coords) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(f'<polyline points="{path}" class="line"/>')
    for i, (label, v) in enumerate(points):
        parts.append(f'<text x="{px(i):.1f}" y="{height - 10}" class="axis" text-anchor="middle">{escape(label)}</text>')
        if v is not None:
            parts.append(f'<circle cx="{px(i):.1f}" cy="{py(v):.1f}" r="4" class="dot"/>'
                         f'<text x="{px(i):.1f}" y="{py(v) - 8:.1f}" class="val" text-anchor="middle">{v:.1f}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704


def heat_class(value: float | None) -> str:
    """CSS class of a heat-map cell (bands of 10 points from 50%, colour-blind-safe palette in reports.css)."""
    if value is None:
        return "h-na"
    band = int(max(0, min(4, (value - 50) // 10)))
    return f"h{band}"
