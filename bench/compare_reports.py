"""Compare two report folders: are the published reports the same, apart from the fingerprint?

    .venv/bin/python bench/compare_reports.py BEFORE_DIR AFTER_DIR

A restructuring of the code must leave the reports as they were. Compared:

- `figures/` and `html/` byte for byte, and `index.html`; in HTML, the footer's input
  fingerprint (the job's cache key, which changes whenever package code changes) is masked;
- `pdf/`: the page count, the text of every page (`pdftotext`; as a multiset of non-blank
  lines, since its reading order through a table, like `-layout`'s columns, can shift when
  only the footer's fingerprint changes; the page images catch any real move) and the page
  images (`pdftoppm` at 40 dpi, grey). The fingerprint is the last line of the report: its
  text is masked from the word "fingerprint" (输入指纹) to the end of its page (where the
  lines still differ, the words of the text layer are compared with their positions, those from
  the fingerprint's line down left out), and its page image from the top of that word
  (`pdftotext -bbox`) down;
- files present in one folder only.

Not compared: `notebooks/` (the executed notebooks carry the researcher's cells, which the
published reports leave out), `logs/`, `manifest.json` and the build's own state. Prints one
line per difference, then `N files compared, M differ`; exits 1 when anything differs.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tempfile
from pathlib import Path

# The footer line "input fingerprint: 0123456789abcdef" / "输入指纹：0123456789abcdef" (a
# full-width colon in Chinese), the key set as code in the HTML (`<code>…</code>`).
FINGERPRINT = re.compile(r"(input fingerprint|输入指纹)([:：]\s*(?:<code>)?)[0-9a-f]{16}")
# In the PDF's text the same line comes out with the "fi" ligature lost ("input ngerprint")
# and the digits spread over lines ("e f\n\nb e"): the rest of the page is masked.
PDF_FINGERPRINT = re.compile(r"(input (?:fi)?ngerprint|输入指纹)[^\f]*")
BBOX_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">')
BBOX_WORD = re.compile(
    r'<word xMin="[\d.]+" yMin="([\d.]+)"[^>]*>(?:(?:fi)?ngerprint:|输入指纹[:：])</word>'
)
FOLDERS = ("figures", "html", "pdf")
DPI = 40


def _mask(text: str) -> str:
    return FINGERPRINT.sub(r"\1\2<masked>", text)


def _files(root: Path) -> set[str]:
    found = {p.relative_to(root).as_posix() for f in FOLDERS for p in (root / f).rglob("*")}
    found = {rel for rel in found if (root / rel).is_file()}
    if (root / "index.html").is_file():
        found.add("index.html")
    return found


def _pdf_text(path: Path) -> tuple[str, int]:
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    return PDF_FINGERPRINT.sub(r"\1 <masked>", text), text.count("\f")


def _fingerprint_top(path: Path) -> tuple[int, float] | None:
    """(page index, top of the fingerprint word as a fraction of the page height), or None."""
    bbox = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    found = None
    for index, page in enumerate(BBOX_PAGE.split(bbox)[1:][2::3]):
        match = BBOX_WORD.search(page)
        if match:
            height = float(BBOX_PAGE.findall(bbox)[index][1])
            found = (index, float(match.group(1)) / height)
    return found


def _pdf_pages(path: Path) -> list[str]:
    """The sha256 of each page image (grey PGM at DPI), the fingerprint and below blanked."""
    footer = _fingerprint_top(path)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", str(path), f"{tmp}/page"], check=True)
        digests = []
        for index, page in enumerate(sorted(Path(tmp).glob("page-*.pgm"))):
            data = page.read_bytes()
            # A binary PGM: "P5\n<w> <h>\n<max>\n" then one byte a pixel.
            match = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
            if match is None:
                raise ValueError(f"{page}: not a binary PGM")
            width, height = int(match.group(1)), int(match.group(2))
            pixels = bytearray(data[match.end() :])
            if footer is not None and footer[0] == index:
                keep = max(0, int(height * footer[1]) - 1) * width
                pixels[keep:] = b"\xff" * (len(pixels) - keep)
            digests.append(hashlib.sha256(bytes(pixels)).hexdigest())
        return digests


BBOX_ANY_WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="[\d.]+">([^<]*)</word>'
)


def _pdf_words(path: Path) -> list[tuple[int, str, str, str]]:
    """Every word of the PDF's text layer with its page and position (to 0.1 pt), but for the
    fingerprint and what follows it on its page: the same words in the same places."""
    bbox = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    footer = _fingerprint_top(path)
    heights = [float(h) for _, h in BBOX_PAGE.findall(bbox)]
    words = []
    for index, page in enumerate(BBOX_PAGE.split(bbox)[1:][2::3]):
        for x, y, word in BBOX_ANY_WORD.findall(page):
            if footer and footer[0] == index and float(y) >= footer[1] * heights[index] - 0.5:
                continue
            words.append((index, f"{float(x):.1f}", f"{float(y):.1f}", word))
    return words


def _lines(text: str) -> list[str]:
    """The non-blank lines of a text, sorted: its content whatever the reading order."""
    return sorted(line for line in text.split("\n") if line.strip())


def _differs(a: Path, b: Path, rel: str) -> str | None:
    """Why `rel` differs between the two folders, or None when it is the same."""
    if rel.endswith(".pdf"):
        (text_a, pages_a), (text_b, pages_b) = _pdf_text(a), _pdf_text(b)
        if pages_a != pages_b:
            return f"page count {pages_a} vs {pages_b}"
        if text_a != text_b and _lines(text_a) != _lines(text_b):
            # The digits of the fingerprint can land among other lines of its page in the
            # reading order; word by word, with positions, settles whether the text differs.
            if sorted(_pdf_words(a)) != sorted(_pdf_words(b)):
                return "text differs"
        images_a, images_b = _pdf_pages(a), _pdf_pages(b)
        changed = [
            str(i + 1) for i, (x, y) in enumerate(zip(images_a, images_b, strict=True)) if x != y
        ]
        return f"page image(s) {', '.join(changed)} differ" if changed else None
    data_a, data_b = a.read_bytes(), b.read_bytes()
    if rel.endswith(".html"):
        data_a = _mask(data_a.decode("utf-8")).encode("utf-8")
        data_b = _mask(data_b.decode("utf-8")).encode("utf-8")
    return None if data_a == data_b else "bytes differ"


def compare(a: Path, b: Path) -> int:
    """Print the differences between report folders `a` and `b`; return how many differ."""
    files_a, files_b = _files(a), _files(b)
    differ = 0
    for rel in sorted(files_a ^ files_b):
        print(f"only in {a if rel in files_a else b}: {rel}")
        differ += 1
    both = sorted(files_a & files_b)
    for rel in both:
        reason = _differs(a / rel, b / rel, rel)
        if reason:
            print(f"differs: {rel}: {reason}")
            differ += 1
    print(f"{len(files_a | files_b)} files compared, {differ} differ")
    return differ


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    a, b = Path(argv[0]), Path(argv[1])
    for folder in (a, b):
        if not (folder / "html").is_dir():
            print(f"{folder} is not a reports folder (no html/)", file=sys.stderr)
            return 2
    return 1 if compare(a, b) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
