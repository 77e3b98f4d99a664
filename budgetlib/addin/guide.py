"""The finance officers' guide (``excel/HUONG_DAN.md``) as a page the "Hướng dẫn" button opens.

The guide is Markdown in git; officers get HTML in their browser, converted by the small Markdown
converter the Calc extension uses too (:mod:`budgetlib.io.markdown`).
"""

from __future__ import annotations

from pathlib import Path

from ..io.markdown import markdown_to_html

__all__ = ["guide_source", "guide_html", "guide_page", "markdown_to_html"]

GUIDE = "HUONG_DAN.md"


def guide_source() -> Path:
    """``excel/HUONG_DAN.md`` in a checkout, else the copy shipped in ``budgetlib/addin/resources``."""
    from .build import RESOURCES, source_dir

    for folder in (source_dir(), RESOURCES):
        if (folder / GUIDE).is_file():
            return folder / GUIDE
    raise FileNotFoundError(GUIDE)


def guide_page(md: str) -> str:
    """The guide's Markdown as a standalone HTML page (the guide is Vietnamese, so is its title)."""
    from ..core.i18n import tr

    return markdown_to_html(md, title=tr("addin.guide.title", "vi"), lang="vi")


def guide_html(dest: Path | None = None) -> Path:
    """Write the guide as HTML (default ``~/.budgetlib/HUONG_DAN.html``) and return its path."""
    from .dispatch import log_path

    dest = dest or log_path().parent / "HUONG_DAN.html"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(guide_page(guide_source().read_text(encoding="utf-8")), encoding="utf-8")
    return dest
