"""Charts drawn on the server as SVG: no JavaScript, every label escaped. Pure functions of the counts.

Each chart carries a legend naming its colours (in the page's language) and a visible label on every
bar: the count of each column of the throughput chart above it, the key and total of each row of the
bar charts beside it; each coloured segment also has a tooltip with its outcome and count.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from html import escape

__all__ = ["bars_by_key", "throughput_chart"]

_COLOURS = {"accepted": "#2e7d32", "rejected": "#c62828", "duplicate": "#9e9e9e"}
_LEGEND_HEIGHT = 18


def _legend(legend: Mapping[str, str]) -> list[str]:
    """A row of coloured squares with the outcome names, at the top of the chart."""
    parts, x = ['<g class="legend">'], 0
    for outcome, colour in _COLOURS.items():
        name = escape(legend.get(outcome, outcome))
        parts.append(f'<rect x="{x}" y="3" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="12" font-size="11">{name}</text>')
        x += 14 + 8 * len(legend.get(outcome, outcome)) + 20
    parts.append("</g>")
    return parts


def _default_hour(hour: str) -> str:
    return hour[11:16]


def throughput_chart(
    series: Sequence[Mapping[str, object]],
    *,
    title: str,
    legend: Mapping[str, str] | None = None,
    hour_label: Callable[[str], str] = _default_hour,
    width: int = 720,
    height: int = 200,
) -> str:
    """Stacked columns per hour (accepted, rejected, duplicate), each labelled with its count."""
    names = legend or {k: k for k in _COLOURS}
    pad_left, pad_bottom, top = 40, 20, _LEGEND_HEIGHT + 14
    totals = [sum(int(str(s.get(k, 0))) for k in _COLOURS) for s in series]
    peak = max([1, *totals])
    slot = (width - pad_left) / max(1, len(series))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>',
        *_legend(names),
        f'<text x="0" y="{top + 4}" font-size="11">{peak}</text>',
        f'<text x="0" y="{height - pad_bottom}" font-size="11">0</text>',
        f'<line x1="{pad_left}" y1="{height - pad_bottom}" x2="{width}" '
        f'y2="{height - pad_bottom}" stroke="#888"/>',
    ]
    scale = (height - pad_bottom - top) / peak
    for n, point in enumerate(series):
        x, y = pad_left + n * slot, float(height - pad_bottom)
        hour = str(point.get("hour", ""))
        for key, colour in _COLOURS.items():
            count = int(str(point.get(key, 0)))
            if count:
                h = count * scale
                y -= h
                label = escape(f"{hour_label(hour)} {names.get(key, key)}: {count}")
                parts.append(
                    f'<rect class="bar" x="{x + 1:.1f}" y="{y:.1f}" width="{max(1.0, slot - 2):.1f}" '
                    f'height="{h:.1f}" fill="{colour}"><title>{label}</title></rect>'
                )
        if totals[n]:
            parts.append(
                f'<text class="bar-label" x="{x + slot / 2:.1f}" y="{y - 2:.1f}" font-size="10" '
                f'text-anchor="middle">{totals[n]}</text>'
            )
        if n % 3 == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{height - 4}" font-size="10">{escape(hour_label(hour))}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def bars_by_key(
    counts: Mapping[str, Mapping[str, int]],
    *,
    title: str,
    legend: Mapping[str, str] | None = None,
    width: int = 360,
) -> str:
    """Horizontal stacked bars, one per key (a department or a standard), each labelled with key and total."""
    names = legend or {k: k for k in _COLOURS}
    row, label_width, top = 18, 110, _LEGEND_HEIGHT + 4
    height = top + row * max(1, len(counts)) + 4
    peak = max([1, *(sum(v.values()) for v in counts.values())])
    scale = (width - label_width - 40) / peak
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>',
        *_legend(names),
    ]
    for n, (key, values) in enumerate(counts.items()):
        y = top + n * row + 2
        parts.append(f'<text x="0" y="{y + 12}" font-size="11">{escape(key)}</text>')
        x = float(label_width)
        for outcome, colour in _COLOURS.items():
            count = values.get(outcome, 0)
            if count:
                w = count * scale
                parts.append(
                    f'<rect class="bar" x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 4}" '
                    f'fill="{colour}">'
                    f"<title>{escape(f'{key} {names.get(outcome, outcome)}: {count}')}</title></rect>"
                )
                x += w
        total = sum(values.values())
        parts.append(f'<text class="bar-label" x="{x + 4:.1f}" y="{y + 12}" font-size="11">{total}</text>')
    parts.append("</svg>")
    return "".join(parts)
