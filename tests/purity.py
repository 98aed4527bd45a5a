"""Language purity of report HTML: an English page holds no Chinese outside elements marked
`lang="zh-CN"` (each with English beside it), a Chinese page no English words outside elements
marked `lang="en"`, `<code>` and a short allow-list of trade terms.

`purity_errors(html, lang)` takes a report body or a whole built page. On a whole page it reads
what a reader meets: the visible text, and the text of `alt`, `title` and `aria-label`
attributes (alt text is read aloud and printed where an image fails). It leaves out `<style>`,
`<script>` and the document `<title>`: they hold no reader's text but CSS, code and, on the
bilingual index, a tab title that cannot carry a `lang` mark. Imported by the test modules
(pytest puts tests/ on the path).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
# Latin words a Chinese page may print unmarked: product and technology names, units, hashes,
# and the names of the file formats it links (PDF, Word, Excel, CSV).
ALLOWED_LATIN = {"AMOLED", "OLED", "LTPO", "LT", "PO", "POL", "Less", "TFT", "LCD", "Mini"}
ALLOWED_LATIN |= {"Micro", "LED", "SHA", "RMB", "PI", "FMM", "PDF", "Word", "Excel", "CSV"}
BLOCKS = {"p", "li", "tr", "caption", "h1", "h2", "h3", "h4", "figcaption", "div", "summary"}
_VOID = {"br", "img", "meta", "link", "hr", "col", "input", "source", "area", "base", "wbr"}
_SKIP = {"style", "script", "title"}
_READ_ATTRS = ("alt", "title", "aria-label")


class _Purity(HTMLParser):
    """Walks HTML keeping each text's language (nearest `lang`) and block."""

    def __init__(self, page_lang: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str, bool]] = [("root", page_lang, False)]
        self.page_lang = page_lang
        self.errors: list[str] = []
        self.blocks: list[dict] = []  # open blocks: text outside zh spans, zh spans inside
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            return  # the page's language is the caller's (checked against <html lang> apart)
        lang = attrs.get("lang") or self.stack[-1][1]
        code = self.stack[-1][2] or tag == "code"
        for name in _READ_ATTRS:
            if attrs.get(name):
                self._check(attrs[name], lang, code, where=f"{tag} {name}=")
        if tag in _VOID:
            return
        if tag in _SKIP:
            self.skip += 1
        self.stack.append((tag, lang, code))
        if tag in BLOCKS:
            self.blocks.append(
                {"tag": tag, "latin": "", "zh": 0, "han": "", "en": "", "lang": lang}
            )
        elif self.blocks and lang.startswith("zh"):
            self.blocks[-1]["zh"] += 1

    def handle_endtag(self, tag):
        if tag in _VOID or tag == "html":
            return
        if tag in _SKIP and self.skip:
            self.skip -= 1
        while len(self.stack) > 1:
            open_tag, _, _ = self.stack.pop()
            if open_tag in BLOCKS and self.blocks:
                block = self.blocks.pop()
                self._close(block)
            if open_tag == tag:
                break

    def _close(self, block):
        if self.page_lang == "en" and block["zh"] and not re.search(r"[A-Za-z]{2}", block["latin"]):
            self.errors.append(f"Chinese with no English beside it in a <{block['tag']}>")
        if (
            self.page_lang != "en"
            and block["lang"].startswith("zh")
            and re.search(r"[A-Za-z]{2}", block["en"])
            and not HAN.search(block["han"])
        ):
            self.errors.append(f"English with no Chinese beside it in a <{block['tag']}>")
        if self.blocks and block["tag"] in {"p", "li", "caption"}:
            self.blocks[-1]["latin"] += block["latin"]
            self.blocks[-1]["han"] += block["han"]
            self.blocks[-1]["en"] += block["en"]

    def _check(self, data: str, lang: str, code: bool, where: str = "") -> None:
        if self.page_lang == "en":
            if not lang.startswith("zh") and CJK.search(data):
                self.errors.append(f"Chinese outside lang=zh-CN: {where}{data.strip()[:60]!r}")
        elif lang.startswith("en"):
            if CJK.search(data):
                self.errors.append(f"Chinese marked lang=en: {where}{data.strip()[:60]!r}")
        elif not code:
            words = set(re.findall(r"[A-Za-z]{2,}", data)) - ALLOWED_LATIN
            if words:
                self.errors.append(
                    f"English outside lang=en: {sorted(words)} in {where}{data.strip()[:60]!r}"
                )

    def handle_data(self, data):
        if self.skip:
            return
        _, lang, code = self.stack[-1]
        self._check(data, lang, code)
        if self.page_lang == "en" and not lang.startswith("zh") and self.blocks:
            self.blocks[-1]["latin"] += data
        if self.page_lang != "en" and self.blocks:
            self.blocks[-1]["en" if lang.startswith("en") else "han"] += data


def purity_errors(html: str, lang: str) -> list[str]:
    """What breaks the language of a page: Chinese outside elements marked lang="zh-CN" (and
    Chinese with no English beside it) in English; English words outside lang="en" elements,
    <code> and the allow-list in Chinese."""
    parser = _Purity("en" if lang == "en" else "zh-CN")
    parser.feed(html)
    parser.close()
    return parser.errors


def page_lang(page: str) -> str:
    """The language a built page declares ("en" or "zh"), from `<html lang>`."""
    found = re.search(r'<html[^>]*\slang="([^"]+)"', page)
    if not found:
        raise AssertionError("the page declares no language")
    return "zh" if found.group(1).lower().startswith("zh") else "en"
