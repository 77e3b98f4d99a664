"""The guides' Markdown converter (:mod:`budgetlib.io.markdown`), shared by the Excel add-in's
"Hướng dẫn" page and the Calc extension's packed page."""

from __future__ import annotations

from html.parser import HTMLParser

from budgetlib.addin import guide as excel_guide
from budgetlib.calc import guide as calc_guide
from budgetlib.io import markdown

from .conftest import ROOT

SAMPLE = """# Hướng dẫn <sử dụng>

Đoạn văn **đậm** có `mã <b>` và [liên kết](https://example.invalid/a_b)
trên hai dòng.

1. Bước một
   còn tiếp ở dòng sau.
2. Bước hai

- một
* hai

| Nút | Việc |
|---|:--:|
| **Phân bổ** | chia & ghi |

```
budgetlib allocate <tệp>
```

![Menu](../docs/img/calc_menu.png)
"""


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.balanced = True

    def handle_starttag(self, tag, attrs):
        if tag not in ("meta", "img"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.balanced = False


def test_the_subset_the_guides_use():
    page = markdown.markdown_to_html(SAMPLE, title="T & t", images={"../docs/img/calc_menu.png": "img/calc_menu.png"}, lang="vi")
    assert page.startswith('<!DOCTYPE html>\n<html lang="vi">') and "<title>T &amp; t</title>" in page
    assert '<h1 id="hướng-dẫn-sử-dụng">Hướng dẫn &lt;sử dụng&gt;</h1>' in page
    assert ("<p>Đoạn văn <strong>đậm</strong> có <code>mã &lt;b&gt;</code> và "
            '<a href="https://example.invalid/a_b">liên kết</a> trên hai dòng.</p>') in page
    assert "<ol><li>Bước một còn tiếp ở dòng sau.</li><li>Bước hai</li></ol>" in page
    assert "<ul><li>một</li><li>hai</li></ul>" in page
    assert "<table><tr><th>Nút</th><th>Việc</th></tr><tr><td><strong>Phân bổ</strong></td><td>chia &amp; ghi</td></tr></table>" in page
    assert "<pre><code>budgetlib allocate &lt;tệp&gt;</code></pre>" in page
    assert '<img src="img/calc_menu.png" alt="Menu">' in page
    tags = _Tags()
    tags.feed(page)
    assert tags.balanced and tags.stack == []


def test_images_are_listed_once_and_packed_by_file_name():
    md = "![a](x/one.png) ![b](y/two.png)\n![a again](x/one.png)"
    assert markdown.image_links(md) == ["x/one.png", "y/two.png"]
    assert markdown.packed_name("../docs/img/calc_menu.png") == "img/calc_menu.png"
    page = markdown.markdown_to_html(md, title="t")
    assert '<img src="x/one.png" alt="a">' in page  # a target without a mapping is kept as written


def test_both_front_ends_use_the_one_converter():
    assert calc_guide.markdown_to_html is markdown.markdown_to_html is excel_guide.markdown_to_html
    assert calc_guide.image_links is markdown.image_links and calc_guide.packed_name is markdown.packed_name
    for guide in (ROOT / "excel" / "HUONG_DAN.md", ROOT / "libreoffice" / "HUONG_DAN.md"):
        tags = _Tags()
        tags.feed(markdown.markdown_to_html(guide.read_text(encoding="utf-8"), title="t"))
        assert tags.balanced and tags.stack == [], guide


def test_the_excel_guide_page_has_its_catalogue_title():
    from budgetlib.core.i18n import tr

    page = excel_guide.guide_page("# x")
    assert f"<title>{tr('addin.guide.title', 'vi')}</title>" in page and '<html lang="vi">' in page
