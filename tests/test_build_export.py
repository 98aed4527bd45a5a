"""HTML and PDF export of an executed notebook, and the notebook clean-up (no kernel needed)."""

from __future__ import annotations

import base64
import io
import re

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from analysis.publish import export
from analysis.publish.execute import normalise_notebook

# A 2x2 PNG, enough to check that figures are embedded, not linked.
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb"
    "6QAAAABJRU5ErkJggg=="
)
CHINESE = "直骨关门：江苏省先进制造业集群"


def executed_notebook() -> nbformat.NotebookNode:
    code = new_code_cell("display(...)", execution_count=3)
    code.outputs = [
        new_output("display_data", data={"text/markdown": f"# 报告标题\n\n{CHINESE}。"}),
        new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"}),
        new_output(
            "display_data",
            data={"text/html": "<table><tr><th>省份</th><td>12</td></tr></table>"},
        ),
        new_output("stream", name="stdout", text="total = 28\n"),
    ]
    hidden = new_code_cell("secret_code_line = 1", execution_count=4)
    removed = new_code_cell("x", execution_count=5)
    removed.outputs = [new_output("stream", name="stdout", text="internal check passed\n")]
    removed.metadata["tags"] = ["remove-cell"]
    nb = new_notebook(cells=[new_markdown_cell("## 第一节"), code, hidden, removed])
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell{index}"
    return nb


OPTIONS = {
    "job_id": "demo.zh",
    "title": None,
    "citation": "资料来源：赛迪智库。",
    "series": "测试报告",
    "lang": "zh",
    "notebook": "notebooks/demo.ipynb",
    "params": {"lang": "zh", "province": "江苏"},
    "key": "0123456789abcdef0123",
}


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> str:
    html, title = export.render_html(
        executed_notebook(), OPTIONS, notebook_dir=str(tmp_path_factory.mktemp("nb"))
    )
    assert title == "报告标题"
    return html


def test_html_is_a_self_contained_reader_page(page: str) -> None:
    assert page.startswith('<!DOCTYPE html>\n<html lang="zh-CN">')
    assert "<title>报告标题</title>" in page
    # The notebook's heading moved into the title block: exactly one h1.
    assert len(re.findall(r"<h1\b", page)) == 1
    assert '<p class="citation">资料来源：赛迪智库。</p>' in page
    assert "secret_code_line" not in page and "display(...)" not in page  # no code
    assert "internal check passed" not in page  # a cell tagged remove-cell is left out
    assert "In&nbsp;[" not in page and "Out[" not in page  # no prompts
    assert f"data:image/png;base64,{PNG}" in page  # the figure is embedded
    assert "<script" not in page
    assert export.find_remote_resources(page) == []
    assert export.find_remote_urls(page) == []
    assert 'province=</code><code lang="zh-CN">江苏</code>' in page  # provenance footer
    assert "0123456789abcdef" in page
    assert "@page" in page and "size: A4" in page and "counter(page)" in page


def _embedded_font(page: str):
    from fontTools.ttLib import TTFont

    match = re.search(r"url\(data:font/otf;base64,([A-Za-z0-9+/=]+)\)", page)
    assert match, "the page embeds no font"
    return TTFont(io.BytesIO(base64.b64decode(match.group(1))))


def _outline(font, char: str):
    from fontTools.pens.recordingPen import RecordingPen

    pen = RecordingPen()
    glyphs = font.getGlyphSet()
    glyphs[font.getBestCmap()[ord(char)]].draw(pen)
    return pen.value


def test_embedded_font_is_the_simplified_chinese_face_with_every_character(page: str) -> None:
    from fontTools.ttLib import TTFont

    font = _embedded_font(page)
    assert font["name"].getDebugName(1) == "Noto Sans CJK SC"
    cmap = font.getBestCmap()
    assert all(ord(c) in cmap for c in CHINESE + "报告标题省份第一节")
    assert len(cmap) < 1000  # a subset, not the 65,535-glyph face
    # 直 and 骨 are drawn differently in Japanese; the page must carry the Chinese forms.
    path, family = export._font_file()
    sc_index, jp_index = (export._face_index(path, f) for f in (family, "Noto Sans CJK JP"))
    with (
        TTFont(str(path), fontNumber=sc_index, lazy=True) as sc,
        TTFont(str(path), fontNumber=jp_index, lazy=True) as jp,
    ):
        for char in "直骨":
            assert _outline(font, char) == _outline(sc, char)
            assert _outline(font, char) != _outline(jp, char)


def _margin_text(box) -> str:
    text = getattr(box, "text", "") or ""
    return text + "".join(_margin_text(child) for child in getattr(box, "children", []))


def test_pdf_is_a4_with_page_numbers_and_byte_identical(page: str, tmp_path) -> None:
    import weasyprint

    first = export.render_pdf(page, base_url=str(tmp_path))
    second = export.render_pdf(page, base_url=str(tmp_path))
    assert first == second
    assert first.startswith(b"%PDF-")
    assert b"/CreationDate" not in first and b"/ModDate" not in first
    document = weasyprint.HTML(string=page, base_url=str(tmp_path)).render()
    sheet = document.pages[0]
    assert (round(sheet.width * 25.4 / 96), round(sheet.height * 25.4 / 96)) == (210, 297)
    margins = "".join(_margin_text(box) for box in sheet._page_box.children)
    assert f"1 / {len(document.pages)}" in margins
    # Inspect the structure in an uncompressed rendering of the same page.
    plain = document.write_pdf(uncompressed_pdf=True)
    assert plain.count(b"/FontFile3") == 1  # one font, no fake-bold copy
    assert b"Noto-Sans-CJK-SC" in plain


def test_remote_resources_are_found_but_links_are_not_resources() -> None:
    page = (
        '<script src="https://cdn.example.com/require.js"></script>'
        '<link rel="stylesheet" href="//fonts.example.org/css">'
        "<style>@font-face { src: url('https://x.example.net/f.woff2') }</style>"
        '<img src="data:image/png;base64,AAAA">'
        '<a href="https://www.ccidreport.com/article">source</a>'
    )
    assert export.find_remote_resources(page) == [
        "https://cdn.example.com/require.js",
        "//fonts.example.org/css",
        "https://x.example.net/f.woff2",
    ]
    assert "https://www.ccidreport.com/article" in export.find_remote_urls(page)


def test_render_refuses_a_page_that_would_load_remote_resources(tmp_path) -> None:
    nb = executed_notebook()
    nb.cells[1].outputs.append(
        new_output("display_data", data={"text/html": '<img src="https://example.com/x.png">'})
    )
    with pytest.raises(ValueError, match="remote resources.*example.com"):
        export.render_html(nb, OPTIONS, notebook_dir=str(tmp_path))


def test_normalise_removes_volatile_metadata_and_numbers_cells() -> None:
    nb = executed_notebook()
    nb.metadata["papermill"] = {
        "start_time": "2026-01-01T00:00:00",
        "end_time": "2026-01-01T00:00:05",
        "duration": 5.0,
        "input_path": "/work/repo/notebooks/demo.ipynb",
        "output_path": "/tmp/xyz/executed.ipynb",
        "parameters": {"province": "江苏"},
        "environment_variables": {},
        "exception": None,
    }
    injected = new_code_cell('province = "江苏"', execution_count=7)
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(1, injected)
    for cell in nb.cells:
        cell.metadata["papermill"] = {"start_time": "x", "end_time": "y", "duration": 1.0}
        cell.metadata["execution"] = {"iopub.execute_input": "2026-01-01T00:00:00Z"}
    nb.cells[2].outputs[3]["text"] = "read /work/repo/data/raw/x.csv\n"
    clean = normalise_notebook(nb, "/work/repo", commit=False)
    assert clean.metadata.papermill == {
        "input_path": "notebooks/demo.ipynb",
        "parameters": {"province": "江苏"},
    }
    assert [c.get("execution_count") for c in clean.cells if c.cell_type == "code"] == [1, 2, 3, 4]
    assert clean.cells[1]["id"] == "injected-parameters"
    assert all("execution" not in c.metadata and "papermill" not in c.metadata for c in clean.cells)
    assert clean.cells[2].outputs[3]["text"] == "read data/raw/x.csv\n"
    text = nbformat.writes(clean)
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:", text)  # no timestamps left
    committed = normalise_notebook(nb, "/work/repo", commit=True)
    assert "papermill" not in committed.metadata


_PDF_IN_A_WORKER = """
import os, sys
from analysis.publish import export
page = open(sys.argv[1], encoding="utf-8").read()
data = export.render_pdf(page, base_url=sys.argv[2])
assert data.startswith(b"%PDF")
os._exit(0)  # how a multiprocessing worker ends: no garbage collection, no atexit
"""


def test_a_pdf_leaves_no_weasyprint_font_folder_behind(page: str, tmp_path) -> None:
    """WeasyPrint writes @font-face fonts into $TMPDIR/weasyprint-*; a worker that ends with
    os._exit (as multiprocessing workers do) left one such folder per PDF."""
    import subprocess
    import sys

    source = tmp_path / "page.html"
    source.write_text(page, encoding="utf-8")
    scratch = tmp_path / "tmpdir"
    scratch.mkdir()
    env = {**__import__("os").environ, "TMPDIR": str(scratch)}
    subprocess.run(
        [sys.executable, "-c", _PDF_IN_A_WORKER, str(source), str(tmp_path)],
        env=env,
        check=True,
        timeout=120,
    )
    assert sorted(p.name for p in scratch.iterdir()) == []


# Prose as the reports set it: numbers in running text, in emphasis with a note marker, in a
# table (tabular figures) and in a list; words with ligatures (fi, fl, ff) and curly quotes.
TEXT_LAYER_PAGES = {
    "en": (
        "# Clusters in 2019 and 2020\n\n"
        "The competition was launched in August 2019 and May 2020; the first batch had 24 "
        "winners, 70.5% of the 44, in 15 provinces. The office’s “fine” official offer "
        "affluent flows.\n\n"
        '- Jiangsu (8), Guangdong (7), <strong class="an-key">31</strong>'
        '<sup class="an-ref"><a href="#n1">[1]</a></sup> in the East\n\n'
        "| Province | Winners | Share (%) |\n|---|---:|---:|\n"
        "| Jiangsu | 8 | 18.2 |\n| Hunan | 3 | 6.8 |\n"
    ),
    "zh": (
        "# 2019年和2020年的集群\n\n"
        "竞赛于2019年8月和2020年5月启动，第一批24个集群，占44个的70.5%，分布在15个省份。"
        "“集群发展促进机构”first office。\n\n"
        '- 江苏（8个），广东（7个），<strong class="an-key">31</strong>'
        '<sup class="an-ref"><a href="#n1">[1]</a></sup>个在东部\n\n'
        "| 省份 | 集群数 | 占比（%） |\n|---|---:|---:|\n| 江苏 | 8 | 18.2 |\n| 湖南 | 3 | 6.8 |\n"
    ),
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_pdf_text_layer_holds_every_number_and_word_of_the_page(lang: str, tmp_path) -> None:
    """The text layer of the PDF holds every number and word the HTML shows. Old code: the English
    PDF lost its digits ("launched in August  and May ."), which the CJK face's `locl`
    substitutes for English, and its ligatures ("rst"): the font went in whole
    (`full_fonts`), so WeasyPrint wrote a ToUnicode map of the font's cmap, which names no
    glyph a font feature substitutes."""
    from textlayer import missing_from_text_layer, pdf_text

    cell = new_markdown_cell(TEXT_LAYER_PAGES[lang])
    cell["id"] = "text-layer"
    options = {**OPTIONS, "lang": lang, "job_id": f"text.{lang}", "params": {"lang": lang}}
    page, _ = export.render_html(new_notebook(cells=[cell]), options, notebook_dir=str(tmp_path))
    text = pdf_text(export.render_pdf(page, base_url=str(tmp_path)), tmp_path)
    assert "2019" in text  # guards the comparison itself
    assert missing_from_text_layer(page, text) == {"numbers": [], "words": []}


def _embedded_fonts(page: str) -> dict:
    from fontTools.ttLib import TTFont

    rules = re.findall(r'font-family: "([^"]+)";[^}]*?url\(data:font/\w+;base64,([^)]+)\)', page)
    return {family: TTFont(io.BytesIO(base64.b64decode(data))) for family, data in rules}


def test_english_pages_are_set_latin_first_and_chinese_pages_cjk_first(tmp_path) -> None:
    """Old code: English pages were set in the CJK face, whose quote marks are full-width
    (an em each), leaving gaps around every quotation."""
    cell = new_markdown_cell("# Title\n\nThe “fine” article, 《央地协同》, 2019.")
    cell["id"] = "stack"
    pages = {
        lang: export.render_html(
            new_notebook(cells=[cell]), {"lang": lang}, notebook_dir=str(tmp_path)
        )[0]
        for lang in ("en", "zh")
    }
    root = {
        lang: re.search(r":root \{[^}]*font-family: ([^;]+);", p).group(1)
        for lang, p in pages.items()
    }
    assert root["en"] == f'"{export.LATIN_FAMILY}", "{export.EMBEDDED_FAMILY}", sans-serif'
    assert root["zh"] == f'"{export.EMBEDDED_FAMILY}", sans-serif'
    assert f':lang(zh) {{ font-family: "{export.EMBEDDED_FAMILY}"' in pages["en"]
    fonts = _embedded_fonts(pages["en"])
    assert sorted(fonts) == sorted([export.LATIN_FAMILY, export.EMBEDDED_FAMILY])
    latin, cjk = fonts[export.LATIN_FAMILY], fonts[export.EMBEDDED_FAMILY]
    assert latin["name"].getDebugName(1) == "Noto Sans" and "fvar" not in latin  # static
    assert latin["OS/2"].usWeightClass == 400
    assert all(ord(c) in latin.getBestCmap() for c in "Title“”fine2019")
    assert ord("央") not in latin.getBestCmap() and ord("央") in cjk.getBestCmap()

    def advance(font, char: str) -> float:
        return font["hmtx"][font.getBestCmap()[ord(char)]][0] / font["head"].unitsPerEm

    assert advance(cjk, "“") == 1.0  # the gap the CJK face leaves
    assert advance(latin, "“") < 0.5  # proportional
    assert sorted(_embedded_fonts(pages["zh"])) == [export.EMBEDDED_FAMILY]


def test_english_page_embeds_a_subset_of_each_face_and_is_byte_identical(tmp_path) -> None:
    import weasyprint

    cell = new_markdown_cell("# Title\n\nThe “fine” article, 《央地协同》, 2019.")
    cell["id"] = "stack"
    page, _ = export.render_html(
        new_notebook(cells=[cell]), {"lang": "en"}, notebook_dir=str(tmp_path)
    )
    first = export.render_pdf(page, base_url=str(tmp_path))
    assert first == export.render_pdf(page, base_url=str(tmp_path))
    with export._font_configuration() as font_config:
        document = weasyprint.HTML(string=page).render(font_config=font_config)
        plain = document.write_pdf(uncompressed_pdf=True)
    assert plain.count(b"/FontFile2") == 1 and plain.count(b"/FontFile3") == 1  # Latin, CJK
    assert b"Analysis-Noto-Sans-subset" in plain and b"Analysis-Noto-Sans-CJK-SC-subset" in plain


_PDF_BYTES = """
import hashlib, sys
if sys.argv[3] == "absent":  # as on a machine without libharfbuzz-subset
    import weasyprint.pdf.fonts
    weasyprint.pdf.fonts.harfbuzz_subset = None
from analysis.publish import export
page = open(sys.argv[1], encoding="utf-8").read()
print(hashlib.sha256(export.render_pdf(page, base_url=sys.argv[2])).hexdigest())
"""


def test_pdf_bytes_do_not_depend_on_the_systems_harfbuzz_subset(page: str, tmp_path) -> None:
    """WeasyPrint subsets fonts with the system's libharfbuzz-subset where it is installed and
    with fontTools elsewhere, and the two give different font streams. Where this machine has
    the library, the old code's PDF differed from one made as if it had not."""
    import subprocess
    import sys

    source = tmp_path / "page.html"
    source.write_text(page, encoding="utf-8")
    digests = {
        how: subprocess.run(
            [sys.executable, "-c", _PDF_BYTES, str(source), str(tmp_path), how],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout.strip()
        for how in ("as installed", "absent")
    }
    assert digests["as installed"] == digests["absent"]


def test_pdf_bytes_do_not_depend_on_the_clock(page: str, tmp_path, monkeypatch) -> None:
    """fontTools stamps every font it saves with the current time (`head.modified`) unless
    SOURCE_DATE_EPOCH names one: two PDFs a second apart differed."""
    import time

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    real = time.time
    made = []
    for shift in (0, 86_400 * 400):
        monkeypatch.setattr(time, "time", lambda shift=shift: real() + shift)
        made.append(export.render_pdf(page, base_url=str(tmp_path)))
    assert made[0] == made[1]


def test_pdf_fonts_are_subset_by_the_pinned_uharfbuzz_alone(page: str, monkeypatch) -> None:
    """The PDF's fonts go through `_subset_for_pdf` (the uharfbuzz wheel in the lock), never
    through WeasyPrint's fontTools or system-HarfBuzz routes, and what it embeds is a true
    subset: only glyphs up to the last one drawn, each drawn glyph keeping its id."""
    import weasyprint.pdf.fonts as fonts
    from fontTools.ttLib import TTFont

    def refuse(*args, **kwargs):
        raise AssertionError("WeasyPrint's own subsetter was called")

    monkeypatch.setattr(fonts.Font, "_fonttools_subset", refuse)
    monkeypatch.setattr(fonts.Font, "_harfbuzz_subset", refuse)
    calls = []
    real = export._subset_for_pdf

    def spy(font, to_unicode, hinting):
        before = len(font.file_content)
        real(font, to_unicode, hinting)
        subset = TTFont(io.BytesIO(font.file_content))
        calls.append((before, len(font.file_content), len(subset.getGlyphOrder()), to_unicode))

    export.render_pdf(page, base_url=".")  # installs the switch, as every PDF does
    assert fonts.Font.subset is export._subset_for_pdf
    monkeypatch.setattr(fonts.Font, "subset", spy)
    pdf = export.render_pdf(page, base_url=".")
    assert pdf.startswith(b"%PDF-")
    assert calls, "no font was subset"
    for before, after, glyphs, to_unicode in calls:
        assert after < before
        assert glyphs == max(to_unicode) + 1  # ids kept (RETAIN_GIDS), empty tail dropped


def _png_file(mode: str, bits: int = 8) -> bytes:
    """A 64 x 48 PNG of smooth gradients (any resampling or re-quantising would show)."""
    import numpy as np
    from PIL import Image

    y, x = np.mgrid[0:48, 0:64]
    channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    pixels = np.stack([(x * 4 + y * k) % 256 for k in range(channels)], axis=-1)
    if mode == "RGBA":
        pixels[..., 3] = 255 - y * 5
    if bits == 16:
        image = Image.fromarray((pixels[..., 0] * 257).astype("uint16"))
    else:
        image = Image.fromarray(pixels.astype("uint8").squeeze(), mode)
    out = io.BytesIO()
    # Not Pillow's default level (6), with which WeasyPrint compresses again: a re-encoding
    # would give other bytes.
    image.save(out, format="png", compress_level=1)
    return out.getvalue()


def _pdf_of_image(png: bytes) -> tuple[bytes, object]:
    """The PDF of a page showing `png`; the raw stream and the decoded image pypdf reads."""
    import pypdf

    data = base64.b64encode(png).decode("ascii")
    page = export.page_shell(
        f'<p>Figure</p><img alt="chart" src="data:image/png;base64,{data}">', "T", "en"
    )
    pdf = export.render_pdf(export.with_fonts(page, "en"), base_url=".")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    xobjects = reader.pages[0]["/Resources"]["/XObject"]
    stream = next(o.get_object() for o in xobjects.values() if o["/Subtype"] == "/Image")
    return stream._data, reader.pages[0].images[0].image


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_a_plain_png_goes_into_the_pdf_as_it_is_and_shows_its_own_pixels(mode: str) -> None:
    import numpy as np
    from PIL import Image

    png = _png_file(mode)
    raw, shown = _pdf_of_image(png)
    assert raw == export._png_idat(png)  # the file's own compressed data, not a re-encoding
    assert np.array_equal(np.asarray(shown), np.asarray(Image.open(io.BytesIO(png))))


def test_only_plain_8_bit_pngs_are_taken_as_they_are() -> None:
    from PIL import Image

    def saved(image, **options) -> bytes:
        out = io.BytesIO()
        image.save(out, format="png", **options)
        return out.getvalue()

    rgb = Image.open(io.BytesIO(_png_file("RGB")))
    assert export._png_idat(saved(rgb)) is not None
    assert export._png_idat(saved(rgb, compress_level=1)) is not None
    interlaced = bytearray(saved(rgb))
    interlaced[28] = 1  # the IHDR's interlace method: Adam7 (Pillow writes none)
    refused = {
        "alpha": _png_file("RGBA"),
        "16 bits": _png_file("L", 16),
        "palette": saved(rgb.convert("P")),
        "interlaced": bytes(interlaced),
        "transparent colour": saved(rgb, transparency=(0, 0, 0)),
        "not a PNG": b"GIF89a" + bytes(40),
    }
    assert {name: export._png_idat(data) for name, data in refused.items()} == dict.fromkeys(
        refused
    )


def test_a_png_with_alpha_takes_weasyprints_route_and_shows_its_pixels() -> None:
    import numpy as np
    from PIL import Image

    png = _png_file("RGBA")
    _, shown = _pdf_of_image(png)
    assert shown.mode == "RGBA"  # the alpha channel became the image's soft mask
    colours = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert np.array_equal(np.asarray(shown.convert("RGB")), colours)


def test_the_pdf_step_gets_embedded_resources_by_reference_and_fetches_nothing_else(
    tmp_path,
) -> None:
    import pypdf

    local = tmp_path / "chart.png"
    local.write_bytes(_png_file("RGB"))
    data = base64.b64encode(_png_file("RGB")).decode("ascii")
    wrapped = "\n".join(data[i : i + 76] for i in range(0, len(data), 76))  # as some tools write
    page = export.page_shell(
        f'<p>Shown as text: src="data:image/png;base64,AAAA" and url(data:font/ttf;base64,AA)</p>'
        f'<img alt="embedded" src="data:image/png;base64,{wrapped}">'
        f'<img alt="a file" src="{local.as_uri()}">',
        "T",
        "en",
    )
    page = export.with_fonts(page, "en")
    short, fetch = export._embedded_as_references(page)
    # The image and the page's two fonts become references; the text keeps its words.
    assert short.count(f"{export.EMBEDDED_SCHEME}:") == 3 and "base64" in short
    with pytest.raises(ValueError, match="fetches no resource"):
        fetch.fetch(local.as_uri())
    pdf = pypdf.PdfReader(io.BytesIO(export.render_pdf(page, base_url=".")))
    assert len(pdf.pages[0].images) == 1  # the embedded chart; the file was not read
    text = "".join(pdf.pages[0].extract_text().split())
    assert 'src="data:image/png;base64,AAAA"' in text and "url(data:font/ttf;base64,AA)" in text


def test_the_html_export_validates_the_notebook_once_and_still_refuses_an_invalid_one(monkeypatch):
    """nbconvert validated the notebook after each of its twelve preprocessors (3 ms of a
    profile's HTML step); `optimistic_validation` validates it once, after them all."""
    import nbconvert.exporters.exporter as exporter_module

    validated = []
    validate = exporter_module.nbformat.validate

    def counted(nb, *args, **kwargs):
        validated.append(1)
        return validate(nb, *args, **kwargs)

    nb = new_notebook(cells=[new_markdown_cell("# Title\n\nText."), new_code_cell("1")])
    monkeypatch.setattr(exporter_module.nbformat, "validate", counted)
    export.render_html(nb, {"lang": "en", "job_id": "t"}, notebook_dir=".")
    assert len(validated) == 1
    nb.cells[1]["outputs"] = [{"output_type": "no such type"}]
    with pytest.raises(nbformat.ValidationError):
        export.render_html(nb, {"lang": "en", "job_id": "t"}, notebook_dir=".")
