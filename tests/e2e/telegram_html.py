"""A parser for Telegram's HTML parse mode, as the fake Bot API server applies it.

It turns HTML into the plain text and entities Telegram would store, and rejects what
Telegram rejects: unknown tags, unclosed or mismatched tags, bad nesting inside code/pre,
a link without href. It is deliberately *stricter* than Telegram in one way: a bare ``&``
that does not start an entity, and a bare ``>``, are errors here (Telegram tolerates them),
because unescaped article text is exactly the bug these tests exist to catch.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

# tag -> Telegram entity type
TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
}
ATTRIBUTES = {"a": {"href"}, "span": {"class"}, "code": {"class"}, "blockquote": {"expandable"}}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9-]*)"
    r"((?:\s+[A-Za-z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*>"
)
_ATTR = re.compile(r"([A-Za-z-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>\"']+))?")
_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")


class HtmlError(ValueError):
    """The description Telegram would put after "Bad Request: can't parse entities: "."""


@dataclass
class Entity:
    type: str
    offset: int  # UTF-16 code units, like Telegram
    length: int
    url: str | None = None

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"type": self.type, "offset": self.offset, "length": self.length}
        if self.url is not None:
            data["url"] = self.url
        return data


@dataclass
class _Open:
    name: str
    offset: int
    attrs: dict[str, str] = field(default_factory=dict)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def parse_html(source: str) -> tuple[str, list[Entity]]:
    """Return (text, entities) or raise ``HtmlError`` with Telegram-like wording."""
    out: list[str] = []
    units = 0
    stack: list[_Open] = []
    entities: list[Entity] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "<":
            match = _TAG.match(source, i)
            if match is None:
                raise HtmlError(f"Unclosed start tag at byte offset {_byte_offset(source, i)}")
            closing, name, raw_attrs = match.group(1), match.group(2).lower(), match.group(3)
            where = _byte_offset(source, i)
            if closing:
                if raw_attrs.strip():
                    raise HtmlError(f"End tag with attributes at byte offset {where}")
                if not stack:
                    raise HtmlError(f'Unexpected end tag "{name}" at byte offset {where}')
                top = stack.pop()
                if top.name != name:
                    raise HtmlError(
                        f"Unmatched end tag at byte offset {where}, expected "
                        f'"</{top.name}>", found "</{name}>"'
                    )
                if units > top.offset:
                    entities.append(_entity(top, units - top.offset))
            else:
                if name not in TAGS:
                    raise HtmlError(f'Unsupported start tag "{name}" at byte offset {where}')
                attrs = _attributes(name, raw_attrs, where)
                if (
                    stack
                    and stack[-1].name in ("code", "pre")
                    and not (stack[-1].name == "pre" and name == "code")
                ):
                    outer = stack[-1].name
                    raise HtmlError(f'Tag "{name}" inside "{outer}" at byte offset {where}')
                if name == "a" and any(o.name == "a" for o in stack):
                    raise HtmlError(f"Nested links at byte offset {where}")
                if name == "a" and not attrs.get("href", "").strip():
                    raise HtmlError(f"Link without href at byte offset {where}")
                if name == "span" and attrs.get("class") != "tg-spoiler":
                    raise HtmlError(f'Tag "span" needs class "tg-spoiler" at byte offset {where}')
                stack.append(_Open(name, units, attrs))
            i = match.end()
            continue
        if char == "&":
            match = _ENTITY.match(source, i)
            if match is None:
                raise HtmlError(f'Unescaped "&" at byte offset {_byte_offset(source, i)}')
            decoded = _decode(match.group(1))
            out.append(decoded)
            units += utf16_len(decoded)
            i = match.end()
            continue
        if char == ">":
            raise HtmlError(f'Unescaped ">" at byte offset {_byte_offset(source, i)}')
        out.append(char)
        units += utf16_len(char)
        i += 1
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e.offset, -e.length))
    return "".join(out), entities


def _decode(body: str) -> str:
    if body in _NAMED:
        return _NAMED[body]
    number = int(body[2:], 16) if body[1] in "xX" else int(body[1:])
    if number == 0 or number > 0x10FFFF or 0xD800 <= number <= 0xDFFF:
        raise HtmlError(f"Invalid character reference &{body};")
    return chr(number)


def _attributes(name: str, raw: str, where: int) -> dict[str, str]:
    attrs: dict[str, str] = {}
    allowed = ATTRIBUTES.get(name, set())
    for match in _ATTR.finditer(raw):
        key = match.group(1).lower()
        if key not in allowed:
            raise HtmlError(f'Unsupported attribute "{key}" of tag "{name}" at byte offset {where}')
        value = match.group(2) or ""
        if value[:1] in ('"', "'"):
            value = value[1:-1]
        if "<" in value or ">" in value:
            raise HtmlError(f"Unescaped angle bracket in attribute at byte offset {where}")
        for amp in re.finditer("&", value):
            if not _ENTITY.match(value, amp.start()):
                raise HtmlError(f'Unescaped "&" in attribute at byte offset {where}')
        attrs[key] = html.unescape(value)
    return attrs


def _entity(opened: _Open, length: int) -> Entity:
    kind = TAGS[opened.name]
    url = opened.attrs.get("href") if opened.name == "a" else None
    return Entity(kind, opened.offset, length, url)
