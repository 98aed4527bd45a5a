"""Compare what a page shows with what its PDF's text layer says (search, copy, screen readers).

The text layer is read with pypdf (in the lock, so every machine reads it the same way), which
maps glyphs to text through the PDF's ToUnicode maps as `pdftotext`, search and screen readers
do; both found the same missing digits and words in the PDFs before the fix. A glyph
that the PDF's ToUnicode map does not name (a ligature, a digit a font feature substituted)
is drawn but missing from that text: "launched in August  and May ." Imported by the test
modules (pytest puts tests/ on the path).
"""

from __future__ import annotations

import io
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

NUMBER = re.compile(r"\d+")
# Words: runs of Latin letters, or single CJK characters (a line may break between any two).
WORD = re.compile(r"[A-Za-z]+|[\u3400-\u9fff]")


class _Visible(HTMLParser):
    """The text a reader sees: no <head>, <style>, <script> or attribute values."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs) -> None:
        if tag in ("head", "style", "script", "title"):
            self._hidden += 1

    def handle_endtag(self, tag) -> None:
        if tag in ("head", "style", "script", "title"):
            self._hidden -= 1

    def handle_data(self, data) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _Visible()
    parser.feed(page)
    return " ".join(parser.parts).replace("¶", " ")


def pdf_text(pdf: bytes, folder: Path) -> str:
    """The text layer of the PDF, page after page (`folder` is kept for the callers' sake)."""
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def missing_from_text_layer(page: str, text: str) -> dict[str, list[str]]:
    """Numbers and words of the page that the PDF's text does not hold.

    Numbers count: each must appear in the PDF at least as often as on the page. Words need
    only appear: a text layer joins a word hyphenated at a line end ("cluster-" "based"), so a
    word is looked for in the text with spaces and hyphens taken out.
    """
    shown = visible_text(page)
    numbers = Counter(NUMBER.findall(shown))
    numbers.subtract(Counter(NUMBER.findall(text)))
    joined = re.sub(r"[\s\-\u00ad]+", "", text)
    words = sorted({w for w in WORD.findall(shown) if w not in joined})
    return {"numbers": sorted(n for n, count in numbers.items() if count > 0), "words": words}
