"""The finance officers' guide (``excel/HUONG_DAN.md``) as a page the "Hướng dẫn" button opens.

The guide is Markdown in git; officers get HTML in their browser. The converter handles the
subset the guide uses (headings, paragraphs, lists, tables, code, bold, links) and nothing more.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

__all__ = ["guide_source", "guide_html", "markdown_to_html"]

GUIDE = "HUONG_DAN.md"


def guide_source() -> Path:
    """``excel/HUONG_DAN.md`` in a checkout, else the copy shipped in ``budgetlib/addin/resources``."""
    from .build import RESOURCES, source_dir

    for folder in (source_dir(), RESOURCES):
        if (folder / GUIDE).is_file():
            return folder / GUIDE
    raise FileNotFoundError(GUIDE)


def _inline(text: str) -> str:
    text = html.escape(text, quote=False)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", r'<a href="\2">\1</a>', text)
    return text


def markdown_to_html(md: str, *, title: str | None = None) -> str:
    """The guide's Markdown as a standalone HTML page (the guide is Vietnamese, so is its title)."""
    from ..core.i18n import tr

    title = title if title is not None else tr("addin.guide.title", "vi")
    out: list[str] = []
    lines = md.splitlines()
    i = 0
    para: list[str] = []

    def flush() -> None:
        if para:
            out.append(f"<p>{_inline(' '.join(para))}</p>")
            para.clear()

    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            flush()
            block = []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                block.append(lines[i])
                i += 1
            out.append(f"<pre><code>{html.escape(chr(10).join(block))}</code></pre>")
        elif m := re.match(r"(#{1,6})\s+(.*)", line):
            flush()
            n = len(m.group(1))
            out.append(f"<h{n}>{_inline(m.group(2))}</h{n}>")
        elif re.match(r"\s*([-*]|\d+\.)\s+", line):
            flush()
            ordered = bool(re.match(r"\s*\d+\.", line))
            tag = "ol" if ordered else "ul"
            items = []
            while i < len(lines) and re.match(r"\s*([-*]|\d+\.)\s+", lines[i]):
                item = re.sub(r"\s*([-*]|\d+\.)\s+", "", lines[i], count=1)
                while i + 1 < len(lines) and lines[i + 1].startswith("   ") and lines[i + 1].strip() and not re.match(r"\s*([-*]|\d+\.)\s+", lines[i + 1]):
                    i += 1
                    item += " " + lines[i].strip()
                items.append(f"<li>{_inline(item)}</li>")
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
                    rows.append("<tr>" + "".join(f"<{tag}>{_inline(c)}</{tag}>" for c in cells) + "</tr>")
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
        "body{font-family:Segoe UI,Arial,sans-serif;max-width:52em;margin:2em auto;line-height:1.5;padding:0 1em}"
        "code{background:#f3f3f3;padding:0 .2em}pre{background:#f3f3f3;padding:.8em;overflow:auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.3em .6em;vertical-align:top}"
    )
    return (
        f'<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{style}</style></head><body>\n" + "\n".join(out) + "\n</body></html>\n"
    )


def guide_html(dest: Path | None = None) -> Path:
    """Write the guide as HTML (default ``~/.budgetlib/HUONG_DAN.html``) and return its path."""
    from .dispatch import log_path

    dest = dest or log_path().parent / "HUONG_DAN.html"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(markdown_to_html(guide_source().read_text(encoding="utf-8")), encoding="utf-8")
    return dest
