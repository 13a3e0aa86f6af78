"""Every escaping rule of the outputs in one place (the rules: `newsroom.serve.formats`).

`html_text` makes plain text into HTML; `clean` drops what XML 1.0 cannot carry (JSON Feed
drops the same, so every format carries identical strings); the rest write XML by hand.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

# Everything outside XML 1.0's Char production (§2.2).
_XML_ILLEGAL = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_ATTRIBUTE_ESCAPES = {'"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}
_TEXT_ESCAPES = {"\r": "&#13;"}  # a raw CR would be normalised to LF by the reader


def html_text(text: str) -> str:
    """Plain text made into HTML that displays exactly that text (for an HTML-typed field)."""
    return html.escape(text, quote=False)


def clean(text: str) -> str:
    return _XML_ILLEGAL.sub("", text)


def text(value: str) -> str:
    """Character data: illegal characters dropped, &, <, > escaped."""
    escaped = clean(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char, reference in _TEXT_ESCAPES.items():
        escaped = escaped.replace(char, reference)
    return escaped


def attr(value: str) -> str:
    """A double-quoted attribute value, quotes included; whitespace kept as character refs."""
    escaped = text(value)
    for char, reference in _ATTRIBUTE_ESCAPES.items():
        escaped = escaped.replace(char, reference)
    return f'"{escaped}"'


def cdata(value: str) -> str:
    """A CDATA section whose content reads back as `value` exactly (less illegal characters).

    `]]>` would end the section, so it is split across two; a CR would be normalised to LF by
    the reader, so it steps outside the section as a character reference.
    """
    body = clean(value).replace("]]>", "]]]]><![CDATA[>").replace("\r", "]]>&#13;<![CDATA[")
    return f"<![CDATA[{body}]]>"


def attrs(attributes: Mapping[str, str | None]) -> str:
    return "".join(f" {name}={attr(value)}" for name, value in attributes.items() if value is not None)


def element(name: str, content: str, **attributes: str | None) -> str:
    return f"<{name}{attrs(attributes)}>{text(content)}</{name}>"


def empty(name: str, **attributes: str | None) -> str:
    return f"<{name}{attrs(attributes)}/>"
