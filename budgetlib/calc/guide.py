"""The officers' guide (``libreoffice/HUONG_DAN.md``) as the HTML page packed into the extension.

The guide is Markdown in git; "Hướng dẫn" opens it as a page in the browser, from inside the
installed extension, so it is there even when Python or budgetlib is not. The converter handles the
subset the guide uses — headings, paragraphs, lists, tables, code, bold, links, images — and
nothing more. Images are returned separately so the build can pack them beside the page.
"""

from __future__ import annotations

import html
import posixpath
import re

__all__ = ["markdown_to_html", "image_links"]

_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
_LIST = re.compile(r"\s*([-*]|\d+\.)\s+")


def image_links(md: str) -> list[str]:
    """Targets of the Markdown images (``![…](../docs/img/calc_menu.png)``), in order, once each."""
    return list(dict.fromkeys(m.group(2) for m in _IMAGE.finditer(md)))


def _inline(text: str, images: dict[str, str]) -> str:
    parts: list[str] = []
    last = 0
    for m in _IMAGE.finditer(text):
        parts.append(_text(text[last : m.start()]))
        src = images.get(m.group(2), m.group(2))
        parts.append(f'<img src="{html.escape(src)}" alt="{html.escape(m.group(1))}">')
        last = m.end()
    parts.append(_text(text[last:]))
    return "".join(parts)


def _text(text: str) -> str:
    text = html.escape(text, quote=False)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", r'<a href="\2">\1</a>', text)
    return text


def markdown_to_html(md: str, *, title: str, images: dict[str, str] | None = None, lang: str = "vi") -> str:
    """HTML for the guide; ``images`` maps a Markdown image target to the ``src`` to use."""
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
        elif m := re.match(r"(#{1,6})\s+(.*)", line):
            flush()
            n = len(m.group(1))
            anchor = re.sub(r"[^\w]+", "-", m.group(2).casefold()).strip("-")
            out.append(f'<h{n} id="{html.escape(anchor)}">{_inline(m.group(2), images)}</h{n}>')
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
                if not all(re.fullmatch(r":?-+:?", c) for c in cells):
                    tag = "th" if not rows else "td"
                    rows.append("<tr>" + "".join(f"<{tag}>{_inline(c, images)}</{tag}>" for c in cells) + "</tr>")
                i += 1
            out.append(f"<table>{''.join(rows)}</table>")
            continue
        elif not line.strip():
            flush()
        else:
            para.append(line.strip())
        i += 1
    flush()
    style = (
        "body{font-family:'Segoe UI',Arial,sans-serif;max-width:56em;margin:2em auto;line-height:1.5;padding:0 1em}"
        "code{background:#f3f3f3;padding:0 .2em}pre{background:#f3f3f3;padding:.8em;overflow:auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.3em .6em;vertical-align:top}"
        "img{max-width:100%;border:1px solid #ccc}"
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{style}</style></head><body>\n" + "\n".join(out) + "\n</body></html>\n"
    )


def packed_name(target: str) -> str:
    """Where an image of the guide goes inside the extension (``help/img/<file name>``)."""
    return "img/" + posixpath.basename(target)
