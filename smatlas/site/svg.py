"""SVG drawn at build time, without a plotting library: the taxonomy diagram and simple charts.

Every SVG is inline in its page, styled by `site/assets/atlas.css` through classes and CSS variables,
so it follows the light and dark palettes. Every label is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import networkx as nx

from smatlas.site.markup import esc

# Series colours readable on both the light and the dark background.
PALETTE = ["#3b82c4", "#e07b39", "#3aa655", "#c2407a", "#8a6bd1", "#1f9e94", "#d4a21b", "#6d8593"]
CHAR_WIDTH = 6.6  # average advance of the 12 px sans-serif font, for sizing boxes and margins


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def nice_ticks(lo: float, hi: float, count: int = 5, integer: bool = False) -> list[float]:
    """Round tick values covering [lo, hi]; with `integer`, whole numbers only (for counts such as
    repeats or layers, where "1.5 repeats" means nothing)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if integer:
        step = max(1, math.ceil(step))
    start = math.floor(lo / step) * step
    ticks = [round(start, 10)]
    while ticks[-1] < hi - step * 1e-9 and len(ticks) < 50:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _fmt_tick(value: float) -> str:
    if value == int(value) and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.3g}"


def _svg_open(width: float, height: float, label: str, cls: str = "atlas-chart") -> str:
    return (
        f'<svg class="{cls}" viewBox="0 0 {_num(width)} {_num(height)}" width="{_num(width)}" '
        f'role="img" aria-label="{esc(label)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{esc(label)}</title>"
    )


def _legend(names: Sequence[str], x: float, y: float, width: float = 10_000) -> tuple[list[str], int]:
    """Legend entries from (x, y), wrapped into rows of 18 px within `width`; returns them and the rows used."""
    out, cursor, rows = [], x, 1
    for i, name in enumerate(names):
        size = 14 + CHAR_WIDTH * len(name) + 16
        if cursor > x and cursor + size - 16 > x + width:
            cursor, y, rows = x, y + 18, rows + 1
        colour = PALETTE[i % len(PALETTE)]
        out.append(f'<rect x="{_num(cursor)}" y="{_num(y - 9)}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{_num(cursor + 14)}" y="{_num(y)}">{esc(name)}</text>')
        cursor += size
    return out, rows


def stacked_bars(categories: Sequence[str], series: dict[str, Sequence[float]], label: str, ylabel: str) -> str:
    """Vertical bars, one per category, stacked by series (for example papers per year per branch)."""
    names = list(series)
    totals = [sum(series[n][i] for n in names) for i in range(len(categories))]
    ticks = nice_ticks(0, max(totals, default=1) or 1)
    top = ticks[-1] or 1
    left, right, upper, lower = 48, 12, 30, 40
    bar = 22 if len(categories) < 20 else 14
    gap = 8
    width = left + right + len(categories) * (bar + gap) + gap
    width = max(width, 320)
    height = 260
    plot_h = height - upper - lower
    out = [_svg_open(width, height, label)]
    out += _legend(names, left, 16)[0]
    for t in ticks:
        y = upper + plot_h * (1 - t / top)
        out.append(f'<line class="grid" x1="{left}" x2="{_num(width - right)}" y1="{_num(y)}" y2="{_num(y)}"/>')
        out.append(f'<text class="tick" x="{left - 6}" y="{_num(y + 4)}" text-anchor="end">{_fmt_tick(t)}</text>')
    for i, category in enumerate(categories):
        x = left + gap + i * (bar + gap)
        base = upper + plot_h
        for j, name in enumerate(names):
            value = series[name][i]
            if value <= 0:
                continue
            h = plot_h * value / top
            base -= h
            out.append(
                f'<rect x="{_num(x)}" y="{_num(base)}" width="{bar}" height="{_num(h)}" '
                f'fill="{PALETTE[j % len(PALETTE)]}"><title>{esc(name)}, {esc(category)}: {_fmt_tick(value)}</title></rect>'
            )
        if len(categories) < 20 or i % 2 == 0:
            cx, cy = x + bar / 2, upper + plot_h + 14
            out.append(
                f'<text class="tick" x="{_num(cx)}" y="{_num(cy)}" text-anchor="end" '
                f'transform="rotate(-45 {_num(cx)} {_num(cy)})">{esc(category)}</text>'
            )
    out.append(
        f'<text class="axis" x="12" y="{_num(upper + plot_h / 2)}" transform="rotate(-90 12 {_num(upper + plot_h / 2)})" text-anchor="middle">{esc(ylabel)}</text>'
    )
    out.append("</svg>")
    return "".join(out)


def horizontal_bars(
    items: Sequence[tuple[str, float]], label: str, fmt: Callable[[float], str] = _fmt_tick, limit: float | None = None
) -> str:
    """Horizontal bars, one per labelled value (for example papers per venue)."""
    label_w = min(max((len(name) for name, _ in items), default=4) * CHAR_WIDTH + 12, 260)
    row, width = 20, 640
    left, right = label_w, 56
    height = max(len(items), 1) * row + 10
    top = limit or max((v for _, v in items), default=1) or 1
    out = [_svg_open(width, height, label)]
    for i, (name, value) in enumerate(items):
        y = 5 + i * row
        w = (width - left - right) * value / top
        shown = name if len(name) * CHAR_WIDTH + 12 <= label_w else name[: int((label_w - 12) / CHAR_WIDTH) - 1] + "…"
        out.append(
            f'<text x="{_num(left - 6)}" y="{_num(y + 13)}" text-anchor="end">{esc(shown)}<title>{esc(name)}</title></text>'
        )
        out.append(
            f'<rect x="{_num(left)}" y="{_num(y + 2)}" width="{_num(w)}" height="{row - 6}" fill="{PALETTE[0]}"/>'
        )
        out.append(f'<text class="tick" x="{_num(left + w + 4)}" y="{_num(y + 13)}">{esc(fmt(value))}</text>')
    out.append("</svg>")
    return "".join(out)


def line_chart(
    lines: dict[str, tuple[list[float], list[float]]],
    label: str,
    xlabel: str,
    ylabel: str,
    legend: Callable[[str], str] = str,
) -> str:
    """A line plot with axes, ticks and a legend (`legend` maps a line's key to its label); non-finite
    points are skipped. When every x is a whole number the x axis has whole-number ticks only."""
    points = {
        legend(name): [(x, y) for x, y in zip(xs, ys, strict=False) if math.isfinite(x) and math.isfinite(y)]
        for name, (xs, ys) in lines.items()
    }
    xs = [x for pts in points.values() for x, _ in pts] or [0.0, 1.0]
    ys = [y for pts in points.values() for _, y in pts] or [0.0, 1.0]
    whole = all(x == int(x) for x in xs)
    xt, yt = nice_ticks(min(xs), max(xs), integer=whole), nice_ticks(min(ys), max(ys))
    x0, x1, y0, y1 = xt[0], xt[-1], yt[0], yt[-1]
    x1 = x1 if x1 > x0 else x0 + 1
    y1 = y1 if y1 > y0 else y0 + 1
    width, left, right, lower = 560, 56, 16, 44
    legend_items, legend_rows = _legend(list(points), left, 16, width - left - right)
    upper = 16 + 18 * legend_rows
    height = upper + 222 + lower
    pw, ph = width - left - right, height - upper - lower

    def px(x: float) -> float:
        return left + pw * (x - x0) / (x1 - x0)

    def py(y: float) -> float:
        return upper + ph * (1 - (y - y0) / (y1 - y0))

    out = [_svg_open(width, height, label)]
    out += legend_items
    for t in yt:
        out.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{_num(py(t))}" y2="{_num(py(t))}"/>')
        out.append(f'<text class="tick" x="{left - 6}" y="{_num(py(t) + 4)}" text-anchor="end">{_fmt_tick(t)}</text>')
    for t in xt:
        out.append(
            f'<text class="tick" x="{_num(px(t))}" y="{upper + ph + 16}" text-anchor="middle">{_fmt_tick(t)}</text>'
        )
    out.append(f'<line class="axisline" x1="{left}" x2="{width - right}" y1="{upper + ph}" y2="{upper + ph}"/>')
    out.append(f'<text class="axis" x="{left + pw / 2}" y="{height - 6}" text-anchor="middle">{esc(xlabel)}</text>')
    mid = _num(upper + ph / 2)
    out.append(
        f'<text class="axis" x="12" y="{mid}" transform="rotate(-90 12 {mid})" text-anchor="middle">{esc(ylabel)}</text>'
    )
    for i, (name, pts) in enumerate(points.items()):
        colour = PALETTE[i % len(PALETTE)]
        if len(pts) > 1:
            path = " ".join(f"{_num(px(x))},{_num(py(y))}" for x, y in pts)
            out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
        for x, y in pts:
            out.append(
                f'<circle cx="{_num(px(x))}" cy="{_num(py(y))}" r="3" fill="{colour}">'
                f"<title>{esc(name)}: {_fmt_tick(x)}, {y:.4g}</title></circle>"
            )
    out.append("</svg>")
    return "".join(out)


def tree_diagram(graph: nx.DiGraph, href: Callable[[str], str]) -> str:
    """The taxonomy as a left-to-right tree. Nodes carry `title`, `count` and `description`
    attributes; each box links to `href(node)`. Children keep the graph's insertion order."""
    roots = [n for n in graph.nodes if graph.in_degree(n) == 0]
    depth: dict[str, int] = {}
    order: list[str] = []
    for root in roots:
        for node in nx.dfs_preorder_nodes(graph, root):
            parent = next(iter(graph.predecessors(node)), None)
            depth[node] = 0 if parent is None else depth[parent] + 1
            order.append(node)
    row_h, box_h, pad = 30, 22, 10
    rows: dict[str, float] = {}
    next_row = 0

    def place(node: str) -> float:
        nonlocal next_row
        kids = list(graph.successors(node))
        if not kids:
            rows[node] = next_row
            next_row += 1
        else:
            ys = [place(k) for k in kids]
            rows[node] = (ys[0] + ys[-1]) / 2
        return rows[node]

    for root in roots:
        place(root)
        next_row += 0.5
    levels = max(depth.values(), default=0) + 1
    labels = {n: f"{graph.nodes[n]['title']} ({graph.nodes[n]['count']})" for n in order}
    box_w = [
        max((len(labels[n]) * CHAR_WIDTH + 2 * pad for n in order if depth[n] == level), default=80)
        for level in range(levels)
    ]
    gap = 28
    xs = [sum(box_w[:level]) + gap * level + 2 for level in range(levels)]
    width = xs[-1] + box_w[-1] + 4
    height = next_row * row_h + 4
    out = [_svg_open(width, height, "The taxonomy of the atlas", cls="atlas-tree")]
    for parent, child in graph.edges:
        x_a = xs[depth[parent]] + box_w[depth[parent]]
        y_a = rows[parent] * row_h + 2 + box_h / 2
        x_b = xs[depth[child]]
        y_b = rows[child] * row_h + 2 + box_h / 2
        mid = (x_a + x_b) / 2
        out.append(
            f'<path class="edge" d="M{_num(x_a)},{_num(y_a)} C{_num(mid)},{_num(y_a)} {_num(mid)},{_num(y_b)} {_num(x_b)},{_num(y_b)}"/>'
        )
    for node in order:
        x, y = xs[depth[node]], rows[node] * row_h + 2
        cls = "node root" if depth[node] == 0 else ("node leaf" if graph.out_degree(node) == 0 else "node")
        out.append(
            f'<a href="{esc(href(node))}" class="{cls}"><title>{esc(graph.nodes[node]["description"])}</title>'
            f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(box_w[depth[node]])}" height="{box_h}" rx="5"/>'
            f'<text x="{_num(x + pad)}" y="{_num(y + 15)}">{esc(labels[node])}</text></a>'
        )
    out.append("</svg>")
    return "".join(out)
