"""WCAG 2 colour contrast, for tests that check the palette and what a browser actually painted."""

from __future__ import annotations

import re


def channels(colour: str) -> tuple[int, int, int]:
    """Red, green and blue of `#rrggbb` or a computed `rgb(r, g, b)` / `rgba(r, g, b, a)`."""
    if colour.startswith("#"):
        value = colour.lstrip("#")
        return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
    red, green, blue = (int(float(v)) for v in re.findall(r"[\d.]+", colour)[:3])
    return red, green, blue


def relative_luminance(colour: str) -> float:
    linear = [
        c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
        for c in (v / 255 for v in channels(colour))
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    """The WCAG contrast ratio, from 1 (none) to 21 (black on white); AA body text needs 4.5."""
    high, low = sorted((relative_luminance(foreground), relative_luminance(background)))[::-1]
    return (high + 0.05) / (low + 0.05)
