"""Line charts as plain numbers for an inline SVG (the report template draws them): no script,
no network, readable from a file on a laptop offline."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28  # margins for the axis labels
PALETTE = ("#0969da", "#cf222e", "#1a7f37", "#9a6700", "#8250df", "#bf3989", "#0a3069",
           "#953800", "#116329", "#6e7781", "#d4a72c", "#57606a")

Series = dict[str, list[tuple[float, float]]]


@dataclass(frozen=True)
class Line:
    label: str
    colour: str
    points: str  # "x,y x,y ..." for <polyline points>


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    title: str
    unit: str
    lines: tuple[Line, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    bottom: int = HEIGHT - BOTTOM
    right: int = WIDTH - RIGHT
    top: int = TOP

    @property
    def empty(self) -> bool:
        return not self.lines


def _nice(top: float) -> float:
    """A round axis maximum at or above ``top``."""
    if top <= 0:
        return 1.0
    scale = 10 ** len(str(int(top))) / 10
    for step in (1, 2, 4, 8, 10):  # quarters of these make round ticks
        if step * scale >= top:
            return step * scale
    return 10 * scale


def _label(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def line_chart(title: str, unit: str, series: Series) -> Chart:
    """``series``: label -> (x, y) points, x in seconds since the night began."""
    kept = {label: points for label, points in series.items() if points}
    xs = [x for points in kept.values() for x, _ in points]
    ys = [y for points in kept.values() for _, y in points]
    x_max = max(max(xs, default=1.0), 1.0)
    y_max = _nice(max(ys, default=0.0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def at(x: float, y: float) -> str:
        return f"{LEFT + x / x_max * plot_w:.1f},{TOP + plot_h - y / y_max * plot_h:.1f}"

    lines = tuple(Line(label, PALETTE[i % len(PALETTE)],
                       " ".join(at(x, y) for x, y in points))
                  for i, (label, points) in enumerate(sorted(kept.items())))
    x_ticks = tuple(Tick(LEFT + i / 4 * plot_w, f"{x_max * i / 4:.0f} s") for i in range(5))
    y_ticks = tuple(Tick(TOP + plot_h - i / 4 * plot_h, _label(y_max * i / 4))
                    for i in range(5))
    return Chart(title, unit, lines, x_ticks, y_ticks)


__all__ = ["Chart", "Line", "Series", "Tick", "line_chart"]
