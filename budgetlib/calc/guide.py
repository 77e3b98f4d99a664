"""The officers' guide (``libreoffice/HUONG_DAN.md``) as the HTML page packed into the extension.

The guide is Markdown in git; "Hướng dẫn" opens it as a page in the browser, from inside the
installed extension, so it is there even when Python or budgetlib is not. The converter is the one
the Excel add-in uses too (:mod:`budgetlib.io.markdown`); images are packed beside the page
(``help/img/…``) by the build.
"""

from __future__ import annotations

from ..io.markdown import image_links, markdown_to_html, packed_name

__all__ = ["markdown_to_html", "image_links", "packed_name"]
