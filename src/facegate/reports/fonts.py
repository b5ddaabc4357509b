"""Whether the machine has a font for every character of a document.

A PDF shows each character with a font that has it; without one (a Chinese
document on a machine without a CJK font) WeasyPrint draws an empty box and
the PDF still looks issued. :func:`missing_characters` asks fontconfig
(``fc-list``, which the renderer's own font lookup reads) for the characters
of every installed font, so a PDF that would show boxes is refused
(``report.font_missing``) instead of served. Without ``fc-list`` nothing can
be confirmed beyond ASCII, and the characters beyond it are reported missing.
"""

from __future__ import annotations

import bisect
import os
import subprocess
from functools import lru_cache
from typing import Final

__all__ = ["missing_characters"]

#: Characters no font needs to draw: white space and controls (layout, not glyphs).
_INVISIBLE: Final = frozenset(" \t\n\r\f\v\u00a0\u200b\u200c\u200d\u2060\ufeff")


@lru_cache(maxsize=4)
def _coverage(config: str | None) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The code points of every installed font as merged ``(starts, ends)`` ranges, for
    the fontconfig configuration ``config`` (``FONTCONFIG_FILE``; the cache key)."""
    try:
        listed = subprocess.run(["fc-list", "--format", "%{charset}\n"], capture_output=True,
                                text=True, timeout=60, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        listed = ""
    ranges: list[tuple[int, int]] = []
    for token in listed.split():
        first, _, last = token.partition("-")
        try:
            ranges.append((int(first, 16), int(last or first, 16)))
        except ValueError:
            continue
    if not listed.strip():
        ranges.append((0x20, 0x7E))  # ASCII: every PDF viewer's base fonts hold it
    ranges.sort()
    starts: list[int] = []
    ends: list[int] = []
    for low, high in ranges:
        if ends and low <= ends[-1] + 1:
            ends[-1] = max(ends[-1], high)
        else:
            starts.append(low)
            ends.append(high)
    return tuple(starts), tuple(ends)


def missing_characters(text: str) -> list[str]:
    """The distinct characters of ``text`` no installed font has, in order of first use."""
    starts, ends = _coverage(os.environ.get("FONTCONFIG_FILE"))
    out: list[str] = []
    seen: set[str] = set()
    for ch in text:
        if ch in seen or ch in _INVISIBLE or ord(ch) < 0x20:
            continue
        seen.add(ch)
        i = bisect.bisect_right(starts, ord(ch)) - 1
        if i < 0 or ord(ch) > ends[i]:
            out.append(ch)
    return out
