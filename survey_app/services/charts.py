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


def bar_chart(bars: Sequence[Bar], *, title: str, width: int = 640, na_text: str = "— không đủ số phiếu") -> Markup:
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
            parts.append(f'<text x="{left + 4}" y="{y + 16}" class="na">{escape(na_text)}</text>')
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


@dataclass(frozen=True)
class HeatCell:
    value: float | None  # percent; None = not published (suppressed) or no answers
    note: str = ""  # tooltip: interval, n, direct or model-based


def heat_map(
    rows: Sequence[tuple[str, Sequence[HeatCell | None]]], columns: Sequence[str], *, title: str, na_text: str = "—",
) -> Markup:
    """Communes (rows) × sectors (columns): one coloured square per cell with its value, in the colour bands of
    :func:`heat_class`; ``None`` cells (no respondent) stay blank, suppressed ones are grey with ``na_text``."""
    left, top, cw, ch = 190, 54, 96, 22
    width, height = left + cw * len(columns) + 8, top + ch * len(rows) + 8
    parts = [f'<svg class="chart heat" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for j, col in enumerate(columns):
        x = left + j * cw + cw / 2
        label = col if len(col) <= 16 else col[:15] + "…"
        parts.append(f'<text x="{x:.0f}" y="{top - 10}" class="axis" text-anchor="middle">{escape(label)}</text>')
    for i, (name, cells) in enumerate(rows):
        y = top + i * ch
        label = name if len(name) <= 26 else name[:25] + "…"
        parts.append(f'<text x="{left - 6}" y="{y + 15}" class="lbl" text-anchor="end">{escape(label)}</text>')
        for j, cell in enumerate(cells):
            if cell is None:
                continue
            x = left + j * cw
            tip = f"{name} · {columns[j]}: " + (f"{cell.value:.1f}%" if cell.value is not None else na_text)
            tip += f" · {cell.note}" if cell.note else ""
            parts.append(f'<g><title>{escape(tip)}</title><rect x="{x + 1}" y="{y + 1}" width="{cw - 2}" height="{ch - 2}" '
                         f'class="{heat_class(cell.value)}"/>'
                         f'<text x="{x + cw / 2:.0f}" y="{y + 15}" class="hv {heat_class(cell.value)}" text-anchor="middle">'
                         f'{escape(f"{cell.value:.0f}%" if cell.value is not None else na_text)}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above
