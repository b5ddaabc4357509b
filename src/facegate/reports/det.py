"""The DET curve of a calibration as an inline SVG drawing (pure; no plotting library).

FMR runs along the x axis and FNMR up the y axis, both on log scales whose
decades fit the data; rates of zero sit on the axis. The threshold in force
is a dot.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Final

__all__ = ["det_svg"]

_W: Final = 520.0
_H: Final = 300.0
_LEFT: Final = 62.0
_RIGHT: Final = 16.0
_TOP: Final = 14.0
_BOTTOM: Final = 46.0
_SUPERSCRIPT: Final = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _floor_decade(values: Sequence[float], fallback: int) -> int:
    positive = [v for v in values if v > 0]
    if not positive:
        return fallback
    return max(-6, min(-1, math.floor(math.log10(min(positive)))))


def _label(exponent: int) -> str:
    return "1" if exponent == 0 else "10" + str(exponent).translate(_SUPERSCRIPT)


def det_svg(fmr: Sequence[float], fnmr: Sequence[float], *, point: tuple[float, float] | None,
            x_label: str, y_label: str) -> str:
    """The SVG of the curve through (``fmr[i]``, ``fnmr[i]``) and the ``point`` (FMR, FNMR)."""
    xs = [*fmr, *([point[0]] if point else [])]
    ys = [*fnmr, *([point[1]] if point else [])]
    x0, y0 = _floor_decade(xs, -4), _floor_decade(ys, -3)
    width, height = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM

    def px(v: float) -> float:
        e = max(math.log10(v), x0) if v > 0 else x0
        return _LEFT + width * (e - x0) / -x0

    def py(v: float) -> float:
        e = max(math.log10(v), y0) if v > 0 else y0
        return _TOP + height * (1 - (e - y0) / -y0)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W:g} {_H:g}" '
             f'class="det" role="img">',
             f'<rect x="{_LEFT}" y="{_TOP}" width="{width}" height="{height}" '
             'fill="#fbfcfd" stroke="#9aa5b1" stroke-width="0.8"/>']
    for e in range(x0, 1):
        x = px(10.0 ** e)
        parts.append(f'<line x1="{x:.1f}" y1="{_TOP}" x2="{x:.1f}" y2="{_TOP + height}" '
                     'stroke="#d9dee4" stroke-width="0.6"/>')
        parts.append(f'<text x="{x:.1f}" y="{_TOP + height + 17}" text-anchor="middle" '
                     f'class="tick">{_label(e)}</text>')
    for e in range(y0, 1):
        y = py(10.0 ** e)
        parts.append(f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{_LEFT + width}" y2="{y:.1f}" '
                     'stroke="#d9dee4" stroke-width="0.6"/>')
        parts.append(f'<text x="{_LEFT - 8}" y="{y + 3:.1f}" text-anchor="end" '
                     f'class="tick">{_label(e)}</text>')
    pts = sorted(zip(fmr, fnmr, strict=True))
    if len(pts) > 1:
        path = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in pts)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#1f4e79" '
                     'stroke-width="1.6"/>')
    else:
        parts += [f'<circle cx="{px(a):.1f}" cy="{py(b):.1f}" r="2.5" fill="#1f4e79"/>'
                  for a, b in pts]
    if point is not None:
        parts.append(f'<circle cx="{px(point[0]):.1f}" cy="{py(point[1]):.1f}" r="4.2" '
                     'fill="#c0392b" stroke="#fff" stroke-width="1"/>')
    parts.append(f'<text x="{_LEFT + width / 2:.1f}" y="{_H - 8}" text-anchor="middle" '
                 f'class="axis">{escape(x_label)}</text>')
    parts.append(f'<text x="14" y="{_TOP + height / 2:.1f}" text-anchor="middle" '
                 f'class="axis" transform="rotate(-90 14 {_TOP + height / 2:.1f})">'
                 f'{escape(y_label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
