"""The page's colours in one place, with WCAG 2.x contrast: the stylesheet is rendered from these values.

WCAG AA asks 4.5:1 for text (3:1 for large text and for the shapes of icons); a test computes every pair.
VN_AQI colours are the regulation's (QĐ 1459 Bảng 1, devices.standards): their text colour is chosen here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from devices.standards import VN_AQI_CATEGORIES

INK = "#1a1a1a"
PAPER = "#ffffff"
WHITE = "#ffffff"
BLACK = "#000000"

COLOURS: Mapping[str, str] = MappingProxyType(
    {
        "ink": INK,  # body text
        "paper": PAPER,  # page background
        "muted": "#4d4d4d",  # secondary text
        "card": "#f3f4f6",  # card background
        "line": "#767676",  # card borders and chart axes (3:1 on paper and card: a graphical object)
        "link": "#0a4fb3",
        "ok": "#146c2e",  # status words and icons
        "warn": "#8a4300",
        "bad": "#b3001b",
        "none": "#4d4d4d",
        "warn-bg": "#fff1d6",  # notices
        "bad-bg": "#fde7ea",
        "chart": "#0a4fb3",
    }
)

TEXT_PAIRS: tuple[tuple[str, str], ...] = (
    # (foreground, background) of every piece of text the stylesheet draws.
    *((fg, bg) for fg in ("ink", "muted", "link", "ok", "warn", "bad", "none") for bg in ("paper", "card")),
    ("ink", "warn-bg"),
    ("ink", "bad-bg"),
    ("warn", "warn-bg"),
    ("bad", "bad-bg"),
)
GRAPHIC_PAIRS: tuple[tuple[str, str], ...] = (
    # Icons, borders and chart lines need 3:1 against what they sit on (WCAG 1.4.11).
    *((fg, bg) for fg in ("ok", "warn", "bad", "none", "line", "chart") for bg in ("paper", "card")),
)


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(hex_colour: str) -> float:
    """WCAG 2.x relative luminance of `#rrggbb`."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(a: str, b: str) -> float:
    """WCAG 2.x contrast ratio of two `#rrggbb` colours (1 … 21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_on(background: str) -> str:
    """Black or white, whichever reads better on `background`."""
    return BLACK if contrast(BLACK, background) >= contrast(WHITE, background) else WHITE


AQI_COLOURS: tuple[tuple[str, str], ...] = tuple((c.hex, text_on(c.hex)) for c in VN_AQI_CATEGORIES)
"""(background, text) per VN_AQI band: black on green, yellow, orange and red; white on purple and maroon."""
