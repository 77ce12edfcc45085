"""Charts as inline SVG, drawn in Python.

The report must open offline from one file, so there is no chart library in the page: each
function here returns a small SVG fragment (``markupsafe.Markup``) whose every text is escaped.
Sizes are in CSS pixels; every chart carries a ``viewBox`` so CSS can scale it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import squarify
from markupsafe import Markup, escape

# Diverging red-grey-blue (ColorBrewer RdBu, colour-blind safe): negative -> red, positive -> blue.
_RDBU = ["#b2182b", "#d6604d", "#f4a582", "#ececec", "#92c5de", "#4393c3", "#2166ac"]
# Okabe-Ito categorical palette: distinguishable with the common colour-vision deficiencies.
_LANG_COLOURS = {
    "en": "#0072B2",
    "it": "#009E73",
    "fr": "#E69F00",
    "ro": "#CC79A7",
    "de": "#56B4E9",
    "es": "#D55E00",
    "und": "#9a9a9a",
}
_FALLBACK_COLOURS = ["#F0E442", "#56B4E9", "#D55E00", "#882255", "#44AA99", "#999933"]

HARM = "#b2182b"
PROTECT = "#2166ac"
NEUTRAL = "#6b7280"


def _fmt(v: float) -> str:
    """Coordinates with two decimals: enough for crisp SVG, small files."""
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _hex_to_rgb(h: str) -> tuple[int, int, int]:
    return int(h[1:3], 16), int(h[3:5], 16), int(h[5:7], 16)


def sentiment_colour(value: float | None, limit: float = 0.6) -> str:
    """Colour of a sentiment in [-1, 1] on the diverging scale; ``None`` is neutral grey.

    The scale saturates at ``±limit`` because theme means rarely leave [-0.6, 0.6]; a scale over
    the full [-1, 1] would paint every theme the same pale colour.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "#d4d4d8"
    t = (max(-limit, min(limit, float(value))) + limit) / (2 * limit)  # 0..1
    pos = t * (len(_RDBU) - 1)
    i = min(int(pos), len(_RDBU) - 2)
    f = pos - i
    a, b = _hex_to_rgb(_RDBU[i]), _hex_to_rgb(_RDBU[i + 1])
    r, g, bl = (round(a[k] + (b[k] - a[k]) * f) for k in range(3))
    return f"#{r:02x}{g:02x}{bl:02x}"


def text_colour(fill: str) -> str:
    """Black or white text, whichever reads better on ``fill`` (WCAG relative luminance)."""
    r, g, b = (c / 255 for c in _hex_to_rgb(fill))
    lum = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#111827" if lum > 0.45 else "#ffffff"


def language_colour(lang: str, index: int = 0) -> str:
    return _LANG_COLOURS.get(lang, _FALLBACK_COLOURS[index % len(_FALLBACK_COLOURS)])


# ---------------------------------------------------------------- interval bars (forest plot)


@dataclass(frozen=True)
class LogScale:
    """A log-scale axis for ratios (risk ratios, odds ratios) shared by all rows of a table."""

    low: float
    high: float
    width: float = 180.0
    pad: float = 8.0

    @classmethod
    def fit(cls, values: Sequence[float | None], width: float = 180.0) -> LogScale:
        """Domain covering the finite positive values and 1, rounded out to powers of two."""
        finite = [float(v) for v in values if v is not None and math.isfinite(v) and v > 0]
        lo = min([1.0, *finite])
        hi = max([1.0, *finite])
        # Clip: a CI of (0.01, 300) from a tiny cell would flatten every other row to a dot.
        lo, hi = max(lo, 1 / 16), min(hi, 16.0)
        lo = 2.0 ** math.floor(math.log2(lo) - 0.15)
        hi = 2.0 ** math.ceil(math.log2(hi) + 0.15)
        return cls(lo, hi, width)

    def x(self, v: float) -> float:
        v = min(max(v, self.low), self.high)
        span = math.log(self.high) - math.log(self.low)
        return self.pad + (math.log(v) - math.log(self.low)) / span * (self.width - 2 * self.pad)

    def ticks(self) -> list[float]:
        """Powers of two (or of four, eight... on a wide domain) around 1, at most seven."""
        step = 2.0
        while True:
            out, t = [1.0], 1.0
            while t / step >= self.low * 0.999:
                t /= step
                out.insert(0, t)
            t = 1.0
            while t * step <= self.high * 1.001:
                t *= step
                out.append(t)
            if len(out) <= 7:
                return out
            step *= 2


def _tick_label(v: float) -> str:
    return f"{v:g}" if v >= 1 else f"1/{round(1 / v):g}"


def interval_bar(
    estimate: float | None,
    low: float | None,
    high: float | None,
    scale: LogScale,
    title: str = "",
    height: float = 22.0,
) -> Markup:
    """One row of a forest plot: the CI as a line, the estimate as a dot, a dashed line at 1.

    Red when the whole interval is above 1 (the theme goes with more of the bad outcome), blue
    when below 1, grey when it crosses 1. Values outside the axis are drawn as arrows at the edge.
    """
    w, mid = scale.width, height / 2
    parts = [
        f'<svg class="ci" width="{_fmt(w)}" height="{_fmt(height)}" viewBox="0 0 {_fmt(w)} {_fmt(height)}" role="img">',
        f"<title>{escape(title)}</title>" if title else "",
        f'<line x1="{_fmt(scale.x(1))}" x2="{_fmt(scale.x(1))}" y1="1" y2="{_fmt(height - 1)}"'
        ' stroke="#9ca3af" stroke-dasharray="2 2"/>',
    ]
    if estimate is None or not math.isfinite(estimate) or estimate <= 0:
        parts.append("</svg>")
        return Markup("".join(parts))
    lo = low if low is not None and math.isfinite(low) and low > 0 else estimate
    hi = high if high is not None and math.isfinite(high) else estimate
    colour = HARM if lo > 1 else PROTECT if hi < 1 else NEUTRAL
    x0, x1, xe = scale.x(lo), scale.x(hi), scale.x(estimate)
    parts.append(
        f'<line x1="{_fmt(x0)}" x2="{_fmt(x1)}" y1="{_fmt(mid)}" y2="{_fmt(mid)}"'
        f' stroke="{colour}" stroke-width="2.5" stroke-linecap="round"/>'
    )
    if hi > scale.high:  # truncated: arrow head at the right edge
        parts.append(
            f'<path d="M{_fmt(x1)},{_fmt(mid - 4)} L{_fmt(x1 + 5)},{_fmt(mid)} L{_fmt(x1)},{_fmt(mid + 4)}z"'
            f' fill="{colour}"/>'
        )
    if lo < scale.low:
        parts.append(
            f'<path d="M{_fmt(x0)},{_fmt(mid - 4)} L{_fmt(x0 - 5)},{_fmt(mid)} L{_fmt(x0)},{_fmt(mid + 4)}z"'
            f' fill="{colour}"/>'
        )
    parts.append(f'<circle cx="{_fmt(xe)}" cy="{_fmt(mid)}" r="4.5" fill="{colour}" stroke="#fff"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def interval_axis(scale: LogScale, height: float = 18.0) -> Markup:
    """The tick labels of a :class:`LogScale`, drawn to sit under or above a column of bars."""
    w = scale.width
    parts = [
        f'<svg class="ci-axis" width="{_fmt(w)}" height="{_fmt(height)}" viewBox="0 0 {_fmt(w)} {_fmt(height)}"'
        ' aria-hidden="true">'
    ]
    for t in scale.ticks():
        x = scale.x(t)
        weight = ' font-weight="700"' if t == 1 else ""
        parts.append(
            f'<line x1="{_fmt(x)}" x2="{_fmt(x)}" y1="0" y2="4" stroke="#9ca3af"/>'
            f'<text x="{_fmt(x)}" y="{_fmt(height - 2)}" text-anchor="middle" font-size="10"'
            f' fill="#6b7280"{weight}>{escape(_tick_label(t))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


# ---------------------------------------------------------------- treemap


@dataclass
class TreemapNode:
    """A rectangle to draw: a theme, or one of its sub-themes (``children``)."""

    node_id: str
    label: str
    size: float
    sentiment: float | None
    children: list[TreemapNode]
    href: str | None = None
    detail: str = ""


def _fit_text(text: str, width: float, font: float) -> str | None:
    """The label truncated to fit ``width`` (about 0.58 em per character), or None if nothing fits."""
    max_chars = int(width / (font * 0.58))
    if max_chars < 4:
        return None
    return text if len(text) <= max_chars else text[: max_chars - 1].rstrip() + "…"


def _layout(nodes: list[TreemapNode], x: float, y: float, w: float, h: float) -> list[tuple[TreemapNode, dict]]:
    nodes = sorted((n for n in nodes if n.size > 0), key=lambda n: -n.size)
    if not nodes or w <= 1 or h <= 1:
        return []
    sizes = squarify.normalize_sizes([n.size for n in nodes], w, h)
    return list(zip(nodes, squarify.squarify(sizes, x, y, w, h), strict=True))


def treemap(nodes: list[TreemapNode], width: float = 960.0, height: float = 400.0) -> Markup:
    """Squarified treemap: themes sized by volume, sub-themes nested, filled by sentiment.

    A theme with sub-themes gets a header strip with its label and its sub-themes below; the
    part of its volume not in any sub-theme is shown in the theme's own colour. Each rectangle
    has a ``<title>`` tooltip and links to the theme's section.
    """
    gap, header = 2.0, 18.0
    parts = [
        f'<svg class="treemap" width="{_fmt(width)}" height="{_fmt(height)}"'
        f' viewBox="0 0 {_fmt(width)} {_fmt(height)}" role="img" aria-label="Theme map"'
        ' font-family="inherit">'
    ]

    def rect(node: TreemapNode, r: dict, depth: int) -> None:
        x, y, w, h = r["x"] + gap / 2, r["y"] + gap / 2, r["dx"] - gap, r["dy"] - gap
        if w <= 0 or h <= 0:
            return
        fill = sentiment_colour(node.sentiment)
        ink = text_colour(fill)
        tooltip = f"{node.label}\n{node.detail}" if node.detail and node.label != "other" else node.detail
        opener = f'<a href="{escape(node.href)}">' if node.href else "<g>"
        closer = "</a>" if node.href else "</g>"
        parts.append(opener)
        stroke = "#ffffff" if depth else "#374151"
        parts.append(
            f'<rect x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(w)}" height="{_fmt(h)}" fill="{fill}"'
            f' stroke="{stroke}" stroke-width="{1 if depth else 1.5}" rx="2">'
            f"<title>{escape(tooltip)}</title></rect>"
        )
        font = 12.0 if depth == 0 else 11.0
        label = _fit_text(node.label, w - 8, font)
        if label and h >= font + 6:
            weight = "600" if depth == 0 else "400"
            parts.append(
                f'<text x="{_fmt(x + 4)}" y="{_fmt(y + font + 2)}" font-size="{_fmt(font)}"'
                f' font-weight="{weight}" fill="{ink}" pointer-events="none">{escape(label)}</text>'
            )
            if depth == 0 and not node.children and h >= 2 * font + 10:
                sub = _fit_text(node.detail.split("\n")[0], w - 8, 10.5)
                if sub:
                    parts.append(
                        f'<text x="{_fmt(x + 4)}" y="{_fmt(y + 2 * font + 5)}" font-size="10.5"'
                        f' fill="{ink}" opacity="0.85" pointer-events="none">{escape(sub)}</text>'
                    )
        parts.append(closer)
        if node.children and depth == 0 and h > header + 12 and w > 24:
            inner = list(node.children)
            rest = node.size - sum(c.size for c in inner)
            if rest > 0:
                inner.append(
                    TreemapNode(
                        node.node_id + ":rest",
                        "other",
                        rest,
                        node.sentiment,
                        [],
                        node.href,
                        f"{node.label}: {rest:,.0f} statements in no sub-theme",
                    )
                )
            for child, cr in _layout(inner, x + 1, y + header, w - 2, h - header - 1):
                rect(child, cr, depth + 1)

    for node, r in _layout(nodes, 0, 0, width, height):
        rect(node, r, 0)
    parts.append("</svg>")
    return Markup("".join(parts))


def sentiment_legend(width: float = 260.0, height: float = 34.0, limit: float = 0.6) -> Markup:
    """A gradient bar from negative to positive, for the treemap."""
    stops = "".join(f'<stop offset="{i / (len(_RDBU) - 1):.3f}" stop-color="{c}"/>' for i, c in enumerate(_RDBU))
    bar_h = 10
    return Markup(
        f'<svg class="legend" width="{_fmt(width)}" height="{_fmt(height)}"'
        f' viewBox="0 0 {_fmt(width)} {_fmt(height)}" role="img" aria-label="Sentiment scale">'
        f'<defs><linearGradient id="sentgrad">{stops}</linearGradient></defs>'
        f'<rect x="0" y="2" width="{_fmt(width)}" height="{bar_h}" fill="url(#sentgrad)" rx="2"/>'
        f'<text x="0" y="{bar_h + 16}" font-size="10.5" fill="#4b5563">negative (≤ −{limit:g})</text>'
        f'<text x="{_fmt(width / 2)}" y="{bar_h + 16}" font-size="10.5" fill="#4b5563"'
        ' text-anchor="middle">neutral</text>'
        f'<text x="{_fmt(width)}" y="{bar_h + 16}" font-size="10.5" fill="#4b5563"'
        f' text-anchor="end">positive (≥ +{limit:g})</text></svg>'
    )


# ---------------------------------------------------------------- small multiples


def sparkline(
    values: Sequence[float | None],
    labels: Sequence[str] = (),
    width: float = 180.0,
    height: float = 40.0,
    colour: str = "#374151",
    zero_line: bool = False,
    fmt: str = "{:g}",
    from_zero: bool = False,
) -> Markup | None:
    """A line over runs, the last value marked; ``None`` with fewer than two points.

    ``zero_line`` draws y = 0 (for sentiment); the y range always includes it then.
    ``from_zero`` starts the y axis at 0 (for volumes: 1,000 -> 998 must not look like a fall).
    """
    pts = [(i, float(v)) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    if len(pts) < 2:
        return None
    ys = [v for _, v in pts]
    lo, hi = min(ys), max(ys)
    if zero_line or from_zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    n = len(values)
    pad = 4.0

    def xy(i: int, v: float) -> tuple[float, float]:
        x = pad + i / max(n - 1, 1) * (width - 2 * pad)
        y = height - pad - (v - lo) / (hi - lo) * (height - 2 * pad)
        return x, y

    coords = [xy(i, v) for i, v in pts]
    path = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in coords)
    tip = "; ".join(f"{labels[i] if i < len(labels) else i}: {fmt.format(v)}" for i, v in pts)
    parts = [
        f'<svg class="spark" width="{_fmt(width)}" height="{_fmt(height)}"'
        f' viewBox="0 0 {_fmt(width)} {_fmt(height)}" role="img"><title>{escape(tip)}</title>'
    ]
    if zero_line:
        _, y0 = xy(0, 0.0)
        parts.append(
            f'<line x1="{_fmt(pad)}" x2="{_fmt(width - pad)}" y1="{_fmt(y0)}" y2="{_fmt(y0)}"'
            ' stroke="#d1d5db" stroke-dasharray="2 2"/>'
        )
    parts.append(
        f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.8"'
        ' stroke-linejoin="round" stroke-linecap="round"/>'
    )
    lx, ly = coords[-1]
    parts.append(f'<circle cx="{_fmt(lx)}" cy="{_fmt(ly)}" r="3" fill="{colour}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def split_bar(parts: Mapping[str, float], width: float = 260.0, height: float = 14.0) -> Markup | None:
    """A 100% stacked bar (e.g. statements per language), largest part first."""
    items = sorted(((k, float(v)) for k, v in parts.items() if v and v > 0), key=lambda kv: -kv[1])
    total = sum(v for _, v in items)
    if total <= 0:
        return None
    out = [
        f'<svg class="split" width="{_fmt(width)}" height="{_fmt(height)}"'
        f' viewBox="0 0 {_fmt(width)} {_fmt(height)}" role="img">'
        f"<title>{escape(', '.join(f'{k}: {v / total:.0%}' for k, v in items))}</title>"
    ]
    x = 0.0
    for i, (k, v) in enumerate(items):
        w = v / total * width
        out.append(
            f'<rect x="{_fmt(x)}" y="0" width="{_fmt(max(w - 1, 0.5))}" height="{_fmt(height)}"'
            f' fill="{language_colour(k, i)}"><title>{escape(f"{k}: {v:g} ({v / total:.0%})")}</title></rect>'
        )
        x += w
    out.append("</svg>")
    return Markup("".join(out))
