"""Charts drawn on the server as SVG: no JavaScript, every label escaped. Pure functions of the counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

__all__ = ["bars_by_key", "throughput_chart"]

_COLOURS = {"accepted": "#2e7d32", "rejected": "#c62828", "duplicate": "#9e9e9e"}


def throughput_chart(
    series: Sequence[Mapping[str, object]], *, title: str, width: int = 720, height: int = 180
) -> str:
    """Stacked columns per hour (accepted, rejected, duplicate), with the peak on the axis."""
    pad_left, pad_bottom = 40, 20
    totals = [sum(int(str(s.get(k, 0))) for k in _COLOURS) for s in series]
    peak = max([1, *totals])
    slot = (width - pad_left) / max(1, len(series))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>',
        f'<text x="0" y="12" font-size="11">{peak}</text>',
        f'<text x="0" y="{height - pad_bottom}" font-size="11">0</text>',
        f'<line x1="{pad_left}" y1="{height - pad_bottom}" x2="{width}" '
        f'y2="{height - pad_bottom}" stroke="#888"/>',
    ]
    scale = (height - pad_bottom - 10) / peak
    for n, point in enumerate(series):
        x, y = pad_left + n * slot, float(height - pad_bottom)
        for key, colour in _COLOURS.items():
            count = int(str(point.get(key, 0)))
            if count:
                h = count * scale
                y -= h
                label = escape(f"{point.get('hour', '')} {key}: {count}")
                parts.append(
                    f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(1.0, slot - 2):.1f}" height="{h:.1f}" '
                    f'fill="{colour}"><title>{label}</title></rect>'
                )
        if n % 6 == 0:
            hour = escape(str(point.get("hour", ""))[11:16])
            parts.append(f'<text x="{x:.1f}" y="{height - 4}" font-size="10">{hour}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bars_by_key(counts: Mapping[str, Mapping[str, int]], *, title: str, width: int = 360) -> str:
    """Horizontal stacked bars, one per key (a department or a standard), accepted then rejected."""
    row, label_width = 18, 110
    height = row * max(1, len(counts)) + 4
    peak = max([1, *(sum(v.values()) for v in counts.values())])
    scale = (width - label_width - 40) / peak
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>'
    ]
    for n, (key, values) in enumerate(counts.items()):
        y = n * row + 2
        parts.append(f'<text x="0" y="{y + 12}" font-size="11">{escape(key)}</text>')
        x = float(label_width)
        for outcome, colour in _COLOURS.items():
            count = values.get(outcome, 0)
            if count:
                w = count * scale
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 4}" fill="{colour}">'
                    f"<title>{escape(f'{key} {outcome}: {count}')}</title></rect>"
                )
                x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 12}" font-size="11">{sum(values.values())}</text>')
    parts.append("</svg>")
    return "".join(parts)
