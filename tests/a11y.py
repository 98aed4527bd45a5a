"""A static accessibility check of a report page, with the standard library's HTML parser.

It runs everywhere (no browser): the page declares its language; it has one h1 and no skipped
heading level; every image has alt text in the page's language (not nbconvert's English
fallback); every table has header cells; every link has text; text in the other language sits
in an element that says so (`lang="zh-CN"` on an English page, `lang="en"` on a Chinese one).
`problems(page)` returns what is wrong, as readable lines (empty when the page passes).
Where Chromium and axe-core are available, tests run axe as well (`test_build_site.py`).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from purity import ALLOWED_LATIN

NBCONVERT_ALT = "No description has been provided for this image"
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Latin words a Chinese page may carry unmarked: the allow-list of the purity check (names of
# formats and terms of the trade); a hyphen parts words, as in LT-PO and POL-Less.
ZH_ALLOWED = ALLOWED_LATIN | {"LTPS"}
_WORD = re.compile(r"[A-Za-z][A-Za-z'’]{2,}")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
_SKIP = {"style", "script", "code", "title"}


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.html_lang = ""
        self.stack: list[tuple[str, str]] = []  # (tag, lang in force)
        self.headings: list[int] = []
        self.images: list[tuple[str | None, str]] = []  # (alt, lang)
        self.tables: list[int] = []  # header cells per table
        self.links: list[list[str]] = []
        self.text: list[tuple[str, str]] = []  # (text, lang in force)
        self.skip = 0

    def _lang(self) -> str:
        return self.stack[-1][1] if self.stack else self.html_lang

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        lang = attr.get("lang") or self._lang()
        if tag == "html":
            self.html_lang = attr.get("lang") or ""
            lang = self.html_lang
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.headings.append(int(tag[1]))
        if tag == "img":
            self.images.append((attr.get("alt"), lang))
        if tag == "table":
            self.tables.append(0)
        if tag == "th" and self.tables:
            self.tables[-1] += 1
        if tag == "a" and attr.get("href"):
            self.links.append([])
        if tag in _SKIP:
            self.skip += 1
        if tag not in _VOID:
            self.stack.append((tag, lang))

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and self.skip:
            self.skip -= 1
        while self.stack:
            top, _ = self.stack.pop()
            if top == tag:
                break

    def handle_data(self, data: str) -> None:
        if any(tag == "a" for tag, _ in self.stack) and self.links:
            self.links[-1].append(data)
        if self.skip:
            return
        if data.strip():
            self.text.append((data, self._lang()))


def _is_zh(lang: str) -> bool:
    return lang.lower().startswith("zh")


def problems(page: str, *, languages: bool = True) -> list[str]:
    """What makes the page fail the check (empty list: it passes). `languages=False` leaves
    out the marking of text in the other language (the reports' quotes are being marked)."""
    parser = _Page()
    parser.feed(page)
    found: list[str] = []
    lang = parser.html_lang
    if not lang:
        found.append("the page declares no language (<html lang>)")
    if parser.headings.count(1) != 1:
        found.append(f"{parser.headings.count(1)} h1 headings (one expected)")
    for before, after in zip(parser.headings, parser.headings[1:], strict=False):
        if after > before + 1:
            found.append(f"heading level skipped: h{before} then h{after}")
    for alt, img_lang in parser.images:
        if not alt or not alt.strip():
            found.append("an image without alt text")
        elif alt.strip() == NBCONVERT_ALT:
            found.append("an image with nbconvert's placeholder alt text")
        elif _is_zh(img_lang) and not CJK.search(alt):
            found.append(f"alt text not in Chinese: {alt[:60]!r}")
        elif not _is_zh(img_lang) and CJK.search(alt):
            found.append(f"alt text of an English page holds Chinese: {alt[:60]!r}")
    for index, headers in enumerate(parser.tables, start=1):
        if headers == 0:
            found.append(f"table {index} has no header cells (th)")
    for text in parser.links:
        if not "".join(text).strip():
            found.append("a link without text")
    for text, text_lang in parser.text if languages else []:
        if _is_zh(lang) and not _is_zh(text_lang):
            continue  # marked as another language
        if not _is_zh(lang) and _is_zh(text_lang):
            continue
        if not _is_zh(lang) and CJK.search(text):
            found.append(f"Chinese on an English page, not marked lang=zh: {text.strip()[:40]!r}")
        if _is_zh(lang):
            words = [w for w in _WORD.findall(text) if w not in ZH_ALLOWED]
            if words:
                found.append(f"English on a Chinese page, not marked lang=en: {words[:3]}")
    return found
