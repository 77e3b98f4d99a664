"""The officers' guides as HTML pages: the small Markdown converter both spreadsheet front ends use.

The guides (``excel/HUONG_DAN.md``, ``libreoffice/HUONG_DAN.md``) are Markdown in git; officers
read them as a page in their browser — the Excel ribbon's "Hướng dẫn" writes the page when it is
clicked, the Calc extension packs it when it is built. The converter handles the subset the guides
use and nothing more: headings (with anchors), paragraphs, bullet and numbered lists (continued on
indented lines), tables, fenced code, inline code, bold, links and images. Everything else is text,
escaped.

>>> page = markdown_to_html("# Hướng dẫn\\n\\nBấm **Phân bổ** (`Ctrl+S` để lưu).", title="Hướng dẫn")
>>> page.splitlines()[2]
'<h1 id="hướng-dẫn">Hướng dẫn</h1>'
>>> page.splitlines()[3]
'<p>Bấm <strong>Phân bổ</strong> (<code>Ctrl+S</code> để lưu).</p>'
"""

from __future__ import annotations

import html
import posixpath
import re
from collections.abc import Mapping

__all__ = ["markdown_to_html", "image_links", "packed_name"]

_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
_LIST = re.compile(r"\s*([-*]|\d+\.)\s+")
_HEADING = re.compile(r"(#{1,6})\s+(.*)")
_RULE = re.compile(r":?-+:?")

_STYLE = (
    "body{font-family:'Segoe UI',Arial,sans-serif;max-width:56em;margin:2em auto;line-height:1.5;padding:0 1em}"
    "code{background:#f3f3f3;padding:0 .2em}pre{background:#f3f3f3;padding:.8em;overflow:auto}"
    "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.3em .6em;vertical-align:top}"
    "img{max-width:100%;border:1px solid #ccc}"
)


def image_links(md: str) -> list[str]:
    """Targets of the Markdown images (``![…](../docs/img/calc_menu.png)``), in order, once each."""
    return list(dict.fromkeys(m.group(2) for m in _IMAGE.finditer(md)))


def packed_name(target: str) -> str:
    """Where an image of a guide goes beside its page (``img/<file name>``)."""
    return "img/" + posixpath.basename(target)


def _text(text: str) -> str:
    text = html.escape(text, quote=False)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", r'<a href="\2">\1</a>', text)


def _inline(text: str, images: Mapping[str, str]) -> str:
    parts: list[str] = []
    last = 0
    for m in _IMAGE.finditer(text):
        parts.append(_text(text[last : m.start()]))
        src = images.get(m.group(2), m.group(2))
        parts.append(f'<img src="{html.escape(src)}" alt="{html.escape(m.group(1))}">')
        last = m.end()
    parts.append(_text(text[last:]))
    return "".join(parts)


def _anchor(heading: str) -> str:
    return re.sub(r"[^\w]+", "-", heading.casefold()).strip("-")


def markdown_to_html(md: str, *, title: str, images: Mapping[str, str] | None = None, lang: str = "vi") -> str:
    """A standalone HTML page (UTF-8, its own style sheet) for the Markdown ``md``.

    ``images`` maps a Markdown image target to the ``src`` the page uses (the Calc build packs the
    screenshots beside the page); other targets are kept as written."""
    images = images or {}
    out: list[str] = []
    lines = md.splitlines()
    para: list[str] = []
    i = 0

    def flush() -> None:
        if para:
            out.append(f"<p>{_inline(' '.join(para), images)}</p>")
            para.clear()

    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            flush()
            block: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                block.append(lines[i])
                i += 1
            out.append(f"<pre><code>{html.escape(chr(10).join(block))}</code></pre>")
        elif m := _HEADING.match(line):
            flush()
            n = len(m.group(1))
            out.append(f'<h{n} id="{html.escape(_anchor(m.group(2)))}">{_inline(m.group(2), images)}</h{n}>')
        elif _LIST.match(line):
            flush()
            tag = "ol" if re.match(r"\s*\d+\.", line) else "ul"
            items = []
            while i < len(lines) and _LIST.match(lines[i]):
                item = _LIST.sub("", lines[i], count=1)
                while i + 1 < len(lines) and lines[i + 1].startswith("   ") and lines[i + 1].strip() and not _LIST.match(lines[i + 1]):
                    i += 1
                    item += " " + lines[i].strip()
                items.append(f"<li>{_inline(item, images)}</li>")
                i += 1
            out.append(f"<{tag}>{''.join(items)}</{tag}>")
            continue
        elif line.startswith("|"):
            flush()
            rows: list[str] = []
            while i < len(lines) and lines[i].startswith("|"):
                cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
                if not all(_RULE.fullmatch(c) for c in cells):
                    cell = "th" if not rows else "td"
                    rows.append("<tr>" + "".join(f"<{cell}>{_inline(c, images)}</{cell}>" for c in cells) + "</tr>")
                i += 1
            out.append(f"<table>{''.join(rows)}</table>")
            continue
        elif not line.strip():
            flush()
        else:
            para.append(line.strip())
        i += 1
    flush()
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(lang)}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body>\n" + "\n".join(out) + "\n</body></html>\n"
    )
