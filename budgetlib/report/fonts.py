"""Fonts with full Vietnamese coverage, the same on every machine: the DejaVu family that ships
inside matplotlib's wheel (``matplotlib/mpl-data/fonts/ttf``), so CI and an officer's laptop get
it from the same ``pip install`` and no system font package is needed. DejaVu Serif stands in for
Times New Roman (which Nghị định 30/2020/NĐ-CP names, but which may not be redistributed)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

__all__ = ["font_dir", "font_path", "register_pdf_fonts", "SERIF", "SERIF_BOLD", "SERIF_ITALIC", "SANS", "SANS_BOLD"]

SERIF, SERIF_BOLD, SERIF_ITALIC, SERIF_BOLD_ITALIC = "BLSerif", "BLSerif-Bold", "BLSerif-Italic", "BLSerif-BoldItalic"
SANS, SANS_BOLD = "BLSans", "BLSans-Bold"

_FILES = {
    SERIF: "DejaVuSerif.ttf",
    SERIF_BOLD: "DejaVuSerif-Bold.ttf",
    SERIF_ITALIC: "DejaVuSerif-Italic.ttf",
    SERIF_BOLD_ITALIC: "DejaVuSerif-BoldItalic.ttf",
    SANS: "DejaVuSans.ttf",
    SANS_BOLD: "DejaVuSans-Bold.ttf",
}


def font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def font_path(name: str) -> Path:
    path = font_dir() / _FILES[name]
    if not path.exists():  # pragma: no cover - a broken matplotlib installation
        raise FileNotFoundError(f"font {path} is missing; reinstall matplotlib")
    return path


@cache
def register_pdf_fonts() -> None:
    """Register the DejaVu faces with reportlab (embedded as subsets in every PDF)."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for name in _FILES:
        pdfmetrics.registerFont(TTFont(name, str(font_path(name))))
    addMapping(SERIF, 0, 0, SERIF)
    addMapping(SERIF, 1, 0, SERIF_BOLD)
    addMapping(SERIF, 0, 1, SERIF_ITALIC)
    addMapping(SERIF, 1, 1, SERIF_BOLD_ITALIC)
    addMapping(SANS, 0, 0, SANS)
    addMapping(SANS, 1, 0, SANS_BOLD)
    addMapping(SANS, 0, 1, SANS)
    addMapping(SANS, 1, 1, SANS_BOLD)
