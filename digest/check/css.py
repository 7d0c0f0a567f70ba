"""The CSS that every mail client applies (inline styles) read back from the sent HTML: colours,
contrast (WCAG), what is hidden and what a reader sees."""

from __future__ import annotations

import re
from collections.abc import Iterator

from cssutils.css.colors import COLORS
from lxml.etree import _Element

from digest.check.parsed import one_line

NOT_RENDERED = frozenset(
    {"head", "title", "style", "script", "noscript", "template", "meta", "link"}
)
_HEX = re.compile(r"#([0-9a-f]{3,8})")
_FUNC = re.compile(r"rgba?\(([^)]*)\)")
_SIZE = re.compile(r"^([\d.]+)(px|pt)$")

RGB = tuple[float, float, float]


def declarations(style: str) -> dict[str, str]:
    """An inline style attribute as property → value (lower-cased names, `!important` dropped)."""
    result: dict[str, str] = {}
    depth, quote, start, parts = 0, "", 0, []
    for index, char in enumerate(style):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif char == ";" and depth == 0:
            parts.append(style[start:index])
            start = index + 1
    parts.append(style[start:])
    for part in parts:
        name, colon, value = part.partition(":")
        if colon:
            cleaned = re.sub(r"!\s*important\s*$", "", value.strip(), flags=re.IGNORECASE).strip()
            result[name.strip().lower()] = cleaned
    return result


def style_of(element: _Element) -> dict[str, str]:
    return declarations(element.get("style") or "")


def parse_color(value: str) -> tuple[RGB, float] | None:
    """A CSS colour as (r, g, b) in 0–255 and its alpha; None for what is not a plain colour."""
    value = value.strip().lower()
    if match := _HEX.fullmatch(value):
        digits = match.group(1)
        if len(digits) in (3, 4):
            digits = "".join(c * 2 for c in digits)
        if len(digits) not in (6, 8):
            return None
        alpha = int(digits[6:8], 16) / 255 if len(digits) == 8 else 1.0
        return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)), alpha
    if match := _FUNC.fullmatch(value):
        numbers = [n for n in re.split(r"[\s,/]+", match.group(1).strip()) if n]
        if len(numbers) not in (3, 4):
            return None
        try:
            channels = [float(n[:-1]) * 2.55 if n.endswith("%") else float(n) for n in numbers[:3]]
            alpha = numbers[3] if len(numbers) == 4 else "1"
            opacity = float(alpha[:-1]) / 100 if alpha.endswith("%") else float(alpha)
        except ValueError:
            return None
        r, g, b = (min(255.0, max(0.0, c)) for c in channels)
        return (r, g, b), min(1.0, max(0.0, opacity))
    if value in COLORS:
        r, g, b, alpha = COLORS[value]
        return (float(r), float(g), float(b)), float(alpha)
    return None


def _background_of(element: _Element) -> tuple[RGB, float] | None:
    style = style_of(element)
    if "background-color" in style:
        color = parse_color(style["background-color"])
        if color is not None:
            return color
    if "background" in style:
        for token in re.findall(r"rgba?\([^)]*\)|#[0-9a-fA-F]+|[a-zA-Z]+", style["background"]):
            color = parse_color(token)
            if color is not None:
                return color
    bgcolor = element.get("bgcolor")
    return parse_color(bgcolor) if bgcolor else None


def _blend(top: RGB, alpha: float, bottom: RGB) -> RGB:
    r1, g1, b1 = top
    r2, g2, b2 = bottom
    return (
        r1 * alpha + r2 * (1 - alpha),
        g1 * alpha + g2 * (1 - alpha),
        b1 * alpha + b2 * (1 - alpha),
    )


def background(element: _Element) -> RGB:
    """The colour behind `element`: the nearest opaque background with see-through ones blended
    over it, white when nothing paints one."""
    layers: list[tuple[RGB, float]] = []
    node: _Element | None = element
    while node is not None:
        color = _background_of(node)
        if color is not None and color[1] > 0:
            layers.append(color)
            if color[1] >= 1:
                break
        node = node.getparent()
    result: RGB = (255.0, 255.0, 255.0)
    for rgb, alpha in reversed(layers):
        result = _blend(rgb, alpha, result)
    return result


def foreground(element: _Element, behind: RGB) -> RGB:
    """The text colour of `element` (inherited; black when unset), blended over `behind`."""
    node: _Element | None = element
    while node is not None:
        color = parse_color(style_of(node).get("color", "")) if "color" in style_of(node) else None
        if color is None and isinstance(node.tag, str) and node.tag == "font" and node.get("color"):
            color = parse_color(node.get("color") or "")
        if color is not None:
            rgb, alpha = color
            return _blend(rgb, alpha, behind)
        node = node.getparent()
    return (0.0, 0.0, 0.0)


def luminance(rgb: RGB) -> float:
    """WCAG relative luminance."""

    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = rgb
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(first: RGB, second: RGB) -> float:
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def inherited(element: _Element, name: str) -> str | None:
    node: _Element | None = element
    while node is not None:
        value = style_of(node).get(name)
        if value:
            return value.lower()
        node = node.getparent()
    return None


def is_large(element: _Element) -> bool:
    size_text = inherited(element, "font-size") or ""
    match = _SIZE.match(size_text)
    size = float(match.group(1)) * (4 / 3 if match.group(2) == "pt" else 1) if match else 16.0
    weight = inherited(element, "font-weight") or ""
    bold = weight in ("bold", "bolder") or (weight.isdigit() and int(weight) >= 700)
    if not weight:
        bold = any(
            isinstance(node.tag, str) and node.tag in ("b", "strong", "h1", "h2", "h3", "h4", "th")
            for node in (element, *element.iterancestors())
        )
    return size >= 24 or (bold and size >= 18.66)


def _hides(element: _Element) -> bool:
    """Hidden whatever the descendants say: they cannot undo these."""
    style = style_of(element)
    if style.get("display", "").lower() == "none" or element.get("hidden") is not None:
        return True
    if style.get("opacity", "").strip() in ("0", "0.0", "0%"):
        return True
    return style.get("max-height", "").strip() in ("0", "0px") and "hidden" in style.get(
        "overflow", ""
    )


def is_hidden(element: _Element) -> bool:
    """Hidden by the element or an ancestor: display:none, zero opacity or height, or an inherited
    visibility:hidden or font-size:0 that nothing nearer resets (MJML sets font-size:0 on column
    wrappers and resets it inside)."""
    if any(_hides(node) for node in (element, *element.iterancestors())):
        return True
    if (inherited(element, "visibility") or "") == "hidden":
        return True
    return (inherited(element, "font-size") or "").strip() in ("0", "0px", "0pt", "0em")


def own_text(element: _Element) -> str:
    pieces = [element.text or ""]
    pieces.extend(child.tail or "" for child in element)
    return one_line(" ".join(pieces))


def visible_text_elements(
    tree: _Element, also: _Element | None = None
) -> Iterator[tuple[_Element, str]]:
    """Elements holding text a reader sees, with that text, in reading order (plus `also`,
    e.g. the hidden preheader, where it stands)."""
    body = tree.find("body")
    if body is None:
        return
    for element in body.iter():
        if not isinstance(element.tag, str) or element.tag in NOT_RENDERED:
            continue
        text = own_text(element)
        if element is also or (text and not is_hidden(element)):
            yield element, text
