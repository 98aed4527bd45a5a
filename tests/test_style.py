"""The chart house style: CJK font (SC face, no missing glyph), deterministic saving, caption."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ft2font import FT2Font, LoadFlags  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402

from analysis.errors import EnvironmentSetupError  # noqa: E402
from analysis.provinces import all_provinces  # noqa: E402
from analysis.report import style  # noqa: E402

# Characters whose Simplified Chinese and Japanese forms differ in Noto Sans CJK.
SC_JP_DIFFERENT = "直骨关门"
CAPTION = "来源：赛迪智库《央地协同培育发展先进制造业集群》，赛迪智库规划研究所"


@pytest.fixture(autouse=True)
def _house_style():
    style.use_style()
    yield
    plt.close("all")


def _chinese_chart():
    """A chart whose every text element is Chinese: title, ticks, legend, caption, annotation."""
    names = [unit.short_zh for unit in all_provinces()]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.bar(names, np.arange(len(names)) % 7, label="集群数（个）")
    ax.set_title(f"各省份先进制造业集群：{SC_JP_DIFFERENT}")
    ax.set_ylabel("数量（个）")
    ax.tick_params(axis="x", labelrotation=90)
    ax.annotate("国家级集群", xy=(3, 2), xytext=(8, 5), arrowprops={"arrowstyle": "-"})
    ax.legend(title="图例：第一批、第二批")
    style.add_caption(fig, CAPTION)
    return fig


def _all_text(fig) -> str:
    return "".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))


def test_chinese_chart_renders_without_missing_glyphs():
    fig = _chinese_chart()
    with warnings.catch_warnings():
        # matplotlib reports a glyph it cannot find as a UserWarning ("Glyph ... missing from
        # font(s) ..."); as an error it fails the test instead of drawing an empty box.
        warnings.simplefilter("error")
        fig.canvas.draw()
        for fmt in ("svg", "pdf"):
            fig.savefig(io.BytesIO(), format=fmt)
    text = _all_text(fig)
    assert len(set(text)) > 100  # the chart really carries the province names and the rest
    assert style.missing_glyphs([text]) == set()


def test_missing_glyph_would_be_caught():
    """The check above can fail: a character in no face of the stack raises under the same
    filter (😀 is DejaVu Sans's, the stack's last face; U+1FAE0 is in none)."""
    assert style.missing_glyphs(["\U0001fae0"]) == {"\U0001fae0"}
    for lang in ("zh", "en"):
        style.use_style(lang)
        fig, ax = plt.subplots()
        ax.set_title("\U0001fae0 \U0001f600")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(UserWarning, match="missing from font"):
                style.warn_missing_glyphs(fig)  # chart_kit.finish calls it on every chart
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert style.warn_missing_glyphs(fig) == {"\U0001fae0"}


def test_family_selects_the_simplified_chinese_face():
    path = style.register_fonts()
    assert path == style.font_path() and path.suffix == ".ttc"
    sc = style.sc_face_index()
    assert FT2Font(str(path), face_index=sc).postscript_name == "NotoSansCJKsc-Regular"
    for prop in (
        font_manager.FontProperties(family=style.FONT_FAMILY),
        font_manager.FontProperties(),  # the default family after use_style()
    ):
        found = font_manager.findfont(prop, fallback_to_default=False)
        assert Path(found) == path
        assert found.face_index == sc != 0  # face 0 is the Japanese one


def _glyph_numbers(path: Path, face_index: int, char: str) -> tuple[str, np.ndarray]:
    """Glyph id and outline coordinates as the SVG backend writes them (font units x 64)."""
    font = FT2Font(str(path), face_index=face_index)
    font.set_size(100, 72)  # matplotlib.textpath.TextToPath.FONT_SCALE, DPI
    glyph = font.get_char_index(ord(char))
    font.load_glyph(glyph, flags=LoadFlags.NO_HINTING)
    vertices, codes = font.get_path()
    return (
        f"{font.postscript_name}-{glyph:x}",
        (vertices[codes != MplPath.CLOSEPOLY] * 64).ravel(),
    )


def test_rendered_outlines_are_the_sc_forms_not_the_jp_forms():
    fig, ax = plt.subplots()
    ax.set_title(SC_JP_DIFFERENT)
    buf = io.BytesIO()
    with matplotlib.rc_context(style.DETERMINISTIC_RC):
        fig.savefig(buf, format="svg")
    svg = buf.getvalue().decode()
    defs = dict(re.findall(r'<path id="([^"]+)" d="([^"]+)"', svg))
    path = style.font_path()
    for char in SC_JP_DIFFERENT:
        sc_id, sc_outline = _glyph_numbers(path, style.sc_face_index(), char)
        _, jp_outline = _glyph_numbers(path, 0, char)
        # The test only means something if the two forms differ.
        assert sc_outline.shape != jp_outline.shape or not np.allclose(sc_outline, jp_outline)
        assert sc_id in defs, f"{char}: the SVG does not use the SC glyph {sc_id}"
        drawn = np.array([float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", defs[sc_id])])
        assert drawn.shape == sc_outline.shape and np.allclose(drawn, sc_outline, atol=1e-3)
    assert "NotoSansCJKjp" not in svg

    pdf = io.BytesIO()
    with matplotlib.rc_context(style.DETERMINISTIC_RC):
        fig.savefig(pdf, format="pdf")
    fonts = set(re.findall(rb"/BaseFont /[A-Z]{6}\+(\S+)", pdf.getvalue()))
    assert fonts == {b"NotoSansCJKsc-Regular"}


_SAVE_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from analysis.report import style

    style.use_style()
    fig, (left, right) = plt.subplots(1, 2, figsize=(7, 3.5))
    left.bar(["江苏", "广东", "浙江", "湖南"], [10, 8, 7, -3], hatch="//", label="集群数")
    left.plot([0, 1, 2, 3], [3, 4, 5, 6], marker="o", label="增长（%）")
    left.set_title("直骨关门：先进制造业集群")
    left.legend()
    image = right.imshow(np.arange(20.0).reshape(4, 5))
    fig.colorbar(image, ax=right, label="亿元")
    style.add_caption(fig, "来源：赛迪智库《打造本土AMOLED产业生态体系 提升双链现代化水平》")
    style.save_figure(fig, Path(sys.argv[1]) / "chart")
    """
)


def _save_in_subprocess(tmp_path: Path, name: str, hash_seed: str) -> Path:
    out = tmp_path / name
    script = tmp_path / "save_chart.py"
    script.write_text(_SAVE_SCRIPT, encoding="utf-8")
    env = dict(os.environ, PYTHONHASHSEED=hash_seed, MPLBACKEND="Agg")
    subprocess.run([sys.executable, str(script), str(out)], check=True, env=env, cwd=tmp_path)
    return out


def test_same_figure_saved_in_two_processes_gives_identical_bytes(tmp_path):
    first = _save_in_subprocess(tmp_path, "first", "1")
    second = _save_in_subprocess(tmp_path, "second_with_another_name", "2")
    for fmt in ("png", "svg", "pdf"):
        a = (first / f"chart.{fmt}").read_bytes()
        b = (second / f"chart.{fmt}").read_bytes()
        assert a == b, f"chart.{fmt} differs between two processes"
        # Nothing that varies by machine, time or version is written.
        assert b"Matplotlib v" not in a and b"matplotlib.org" not in a
        assert str(tmp_path).encode() not in a
    assert b"Software" not in (first / "chart.png").read_bytes()
    pdf = (first / "chart.pdf").read_bytes()
    assert b"/CreationDate" not in pdf and b"/ModDate" not in pdf and b"/Producer" not in pdf
    svg = (first / "chart.svg").read_text(encoding="utf-8")
    assert "<dc:date>" not in svg
    assert "NotoSansCJKsc-Regular" in svg  # glyphs are embedded as outlines, named by face


def test_save_figure_writes_each_format_atomically(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    written = style.save_figure(fig, tmp_path / "sub" / "fig.v1", formats=("png", "svg"))
    assert written == [tmp_path / "sub" / "fig.v1.png", tmp_path / "sub" / "fig.v1.svg"]
    assert written[0].read_bytes().startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="not supported"):
        style.save_figure(fig, tmp_path / "bad", formats=("bmp",))
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["fig.v1.png", "fig.v1.svg"]
    assert not list(tmp_path.glob("bad*")) and not list(tmp_path.glob(".*tmp"))


def test_caption_sits_below_every_axes_and_inside_the_figure():
    fig = _chinese_chart()
    long_caption = "Source: CCID Think Tank, " + "a very long article title " * 8 + CAPTION * 2
    caption = style.add_caption(fig, long_caption)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = caption.get_window_extent(renderer)
    assert "\n" in caption.get_text()  # wrapped to the figure width
    assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1 and box.y0 >= fig.bbox.y0
    for ax in fig.axes:
        assert box.y1 <= ax.get_tightbbox(renderer).y0  # below tick labels too
    assert caption.get_color() == style.GREY and caption.get_fontsize() < 9


def test_caption_with_explicit_layout_moves_the_axes_up():
    fig, ax = plt.subplots(layout="none")
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("年份")
    fig.set_layout_engine("none")
    caption = style.add_caption(fig, CAPTION)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert caption.get_window_extent(renderer).y1 < ax.get_window_extent(renderer).y0


def test_use_style_is_idempotent():
    style.use_style()
    before = dict(matplotlib.rcParams)
    faces = len(font_manager.fontManager.ttflist)
    style.use_style()
    assert dict(matplotlib.rcParams) == before
    assert len(font_manager.fontManager.ttflist) == faces
    assert matplotlib.rcParams["axes.unicode_minus"] is False
    assert matplotlib.rcParams["svg.hashsalt"] and matplotlib.rcParams["pdf.fonttype"] == 42
    colors = [c["color"] for c in matplotlib.rcParams["axes.prop_cycle"]]
    assert colors == [c.lower() for c in style.PALETTE] or colors == list(style.PALETTE)


def test_sequential_colormap_gets_darker_monotonically():
    cmap = style.sequential_cmap()
    from analysis.report.map_labels import luminance as _luminance

    lum = [_luminance(cmap(x)) for x in np.linspace(0, 1, 11)]
    assert all(a > b for a, b in zip(lum, lum[1:], strict=False))
    assert lum[0] > 0.7 and lum[-1] < 0.05


def test_missing_font_package_raises_setup_error(monkeypatch):
    # A None entry in sys.modules makes `import noto_cjk_sans_otc` raise ImportError.
    monkeypatch.setitem(sys.modules, style.FONT_MODULE, None)
    monkeypatch.setattr(style, "_registered_paths", None)
    for call in (style.font_path, style.register_fonts, style.use_style):
        with pytest.raises(EnvironmentSetupError) as info:
            call()
        message = str(info.value)
        assert style.FONT_PACKAGE in message and "make setup" in message
        assert "\n" not in message  # one paragraph


def test_missing_font_file_raises_setup_error(monkeypatch):
    monkeypatch.setattr(style, "FONT_FILE", "NotoSansCJK-Missing.ttc")
    with pytest.raises(EnvironmentSetupError, match="NotoSansCJK-Missing.ttc"):
        style.font_path()


def test_notebook_shows_the_png_just_saved_until_the_figure_changes(tmp_path):
    style.use_style()
    fig, ax = plt.subplots(layout="constrained")
    ax.bar(["江苏", "广东"], [10, 8])
    engine = fig.get_layout_engine()
    written = style.save_figure(fig, tmp_path / "chart", formats=("png", "svg"))
    saved = written[0].read_bytes()
    # The layout engine ran once (for the PNG) and is back in place for later drawing.
    assert fig.get_layout_engine() is engine
    assert style.figure_png(fig) is style.figure_png(fig)
    assert style.figure_png(fig) == saved
    assert style.figure_png(fig, dpi=100) != saved  # another resolution is drawn anew
    ax.set_title("改了标题")
    changed = style.figure_png(fig)
    assert changed != saved and changed.startswith(b"\x89PNG")
    assert b"Software" not in changed
    plt.close(fig)


def test_the_svg_is_drawn_from_rounded_positions_that_stay_in_the_layout(tmp_path):
    """The layout solver's last bits vary between processes, and the SVG hashes the clip
    rectangles into ids: positions are rounded before the SVG is drawn (a built AMOLED chart
    gave other ids in a second process), and the axes stay under the layout engine."""
    style.use_style()
    fig, axes = plt.subplots(2, 1, layout="constrained")
    for ax in axes:
        ax.barh(["江苏", "广东"], [10.3, 8.1])
    style.save_figure(fig, tmp_path / "chart", formats=("png", "svg"))
    for ax in axes:
        bounds = ax.get_position(original=True).bounds
        assert all(round(v, 9) == v for v in bounds)
        assert ax.get_in_layout()
    plt.close(fig)


# English charts: Latin first in the shipped Noto Sans; Chinese charts: the CJK face first.
# Old code: one stack for both ([Noto Sans CJK SC, DejaVu Sans]), so English text and its quote
# marks were set in the CJK face (full-width “ ” leaving gaps around the quoted titles).
TIMELINE_CAPTION = (
    "Source: CCID Think Tank, Institute of Planning, “Central and local governments working "
    "together to foster advanced manufacturing clusters” (in Chinese), sections “(1) The state "
    "attaches great importance to advanced manufacturing clusters”, “Local governments foster "
    "advanced manufacturing clusters with many measures”, “(2) MIIT runs a national advanced "
    "manufacturing cluster competition”."
)


def _resolved(text) -> list[tuple[Path, int]]:
    """The files (and faces) matplotlib asks for a glyph of `text`, in order."""
    prop = text.get_fontproperties()
    fonts = font_manager.fontManager._find_fonts_by_props(prop)
    return [(Path(f), getattr(f, "face_index", 0)) for f in fonts]


def test_an_english_chart_sets_latin_in_noto_sans_and_chinese_in_the_cjk_face():
    from analysis.report import chart_kit

    plt_ = chart_kit.setup("en")
    fig, ax = plt_.subplots()
    title = ax.set_title("“Building” 江苏")
    fonts = _resolved(title)
    latin = style.latin_font_path()
    assert fonts[0] == (latin, 0)
    assert fonts[1] == (style.font_path(), style.sc_face_index())  # 江苏 from the SC face
    assert Path(font_manager.findfont(title.get_fontproperties())) == latin
    # Drawn, the Latin glyphs come from Noto Sans: its “ is narrower than the CJK face's.
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    quote_en = ax.text(0, 0, "“").get_window_extent(renderer).width
    style.use_style("zh")
    quote_zh = ax.text(0, 0, "“").get_window_extent(renderer).width
    assert quote_en < 0.6 * quote_zh


def test_a_chinese_chart_after_an_english_one_is_cjk_first_again():
    from analysis.report import chart_kit

    chart_kit.setup("en")
    assert matplotlib.rcParams["font.sans-serif"][0] == style.LATIN_FAMILY
    plt_ = chart_kit.setup("zh")
    assert list(matplotlib.rcParams["font.sans-serif"]) == [
        style.FONT_FAMILY,
        style.FALLBACK_FAMILY,
    ]
    fig, ax = plt_.subplots()
    fonts = _resolved(ax.set_title("江苏 clusters"))
    assert fonts[0] == (style.font_path(), style.sc_face_index())
    assert style.latin_font_path() not in {path for path, _ in fonts}


def test_english_caption_lines_fit_the_png_and_no_line_ends_in_an_opening_quote():
    # Old code measured lines by their outlines only; Noto Sans draws some 4 % wider in the PNG,
    # and this caption's second line ran past the right edge. It also broke after a “.
    style.use_style("en")
    fig = plt.figure(figsize=(6.4, 4.2), dpi=200)
    caption = style.add_caption(fig, TIMELINE_CAPTION)
    lines = caption.get_text().split("\n")
    assert len(lines) >= 3 and not any(line.rstrip().endswith(("“", "‘")) for line in lines)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    width = fig.bbox.width
    for line in lines:
        probe = fig.text(0.01, 0.5, line, fontsize=7.5)
        assert probe.get_window_extent(renderer).x1 <= width * 0.99, line


def test_english_lines_are_as_far_apart_as_in_the_cjk_face_chinese_lines_unchanged():
    def pitch(lang: str, spacing) -> float:
        style.use_style(lang)
        fig = plt.figure(dpi=72)
        # Two and three lines: the first line's height scales with the spacing as well.
        one = fig.text(0, 0.5, "Ag\nAg", fontsize=10, linespacing=spacing)
        two = fig.text(0, 0.5, "Ag\nAg\nAg", fontsize=10, linespacing=spacing)
        style.even_line_pitch(fig)
        renderer = fig.canvas.get_renderer()
        return two.get_window_extent(renderer).height - one.get_window_extent(renderer).height

    # Old code: Noto Sans's taller line box spread English lines to 13.6 pt (1.3: 17.7 pt).
    assert pitch("zh", 1.3) == pytest.approx(13.0)
    assert pitch("en", 1.3) == pytest.approx(13.0, abs=0.01)
    # Chinese texts keep their spacing, "normal" (by each line's glyphs) included.
    style.use_style("zh")
    fig = plt.figure()
    text = fig.text(0, 0.5, "集群\n江苏")
    style.even_line_pitch(fig)
    assert text.get_linespacing() == "normal"
    assert pitch("en", "normal") == pytest.approx(10 * style.MIN_LATIN_PITCH_EM, abs=0.01)


def test_missing_latin_font_package_raises_setup_error(monkeypatch):
    monkeypatch.setitem(sys.modules, style.LATIN_FONT_MODULE, None)
    monkeypatch.setattr(style, "_registered_paths", None)
    for call in (style.latin_font_path, style.register_fonts, lambda: style.use_style("en")):
        with pytest.raises(EnvironmentSetupError) as info:
            call()
        assert style.LATIN_FONT_PACKAGE in str(info.value) and "make setup" in str(info.value)


def _reference_wrap(text: str, width, width_pt: float) -> str:
    """The caption wrap as first written: each line measured as it grows, token by token."""
    lines = []
    for paragraph in text.split("\n"):
        line = ""
        for token in style._TOKEN.findall(paragraph):
            candidate = line + token
            if (
                line
                and width(candidate.rstrip()) > width_pt
                and token[0] not in style._NO_LINE_START
            ):
                lines.append(line.rstrip())
                line = token.lstrip()
            else:
                line = candidate
        lines.append(line.rstrip())
    return "\n".join(lines)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_caption_wrap_breaks_where_measuring_every_token_would(lang) -> None:
    """`_greedy_lines` finds each line's end by bisection; its lines must be the ones that
    measuring the line after every token gives: the build's own captions, and texts made to
    put closing punctuation, spaces and long words at the limit, at several widths."""
    import random

    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    from analysis.report import views
    from analysis.report.citations import source_caption

    style.use_style(lang)
    measure, prop, calls = TextToPath(), FontProperties(size=7.5), []

    def width(s: str) -> float:
        calls.append(s)
        return measure.get_text_width_height_descent(s, prop, ismath=False)[0]

    rng = random.Random(13)
    pieces = [
        "集群",
        "，",
        "。",
        "）",
        "》",
        "“先进制造业”",
        " ",
        "  ",
        "Jiangsu ",
        "2020",
        "、",
        "(CCID)",
        "—",
        "s0012, ",
        "《赛迪智库》",
        "\n",
        "long-established ",
        "。）",
    ]
    # The captions of the maps and the timeline: the longest the build draws.
    texts = [
        source_caption(views.table(name), lang)
        for name in ("national_clusters_by_province", "policy_events")
    ]
    texts += [CAPTION]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 60))) for _ in range(60)]
    for text in texts:
        for width_pt in (40.0, 120.0, 300.0, 442.0):
            calls.clear()
            got = "\n".join(
                "\n".join(style._greedy_lines(style._TOKEN.findall(p), width, width_pt))
                for p in text.split("\n")
            )
            fast = len(calls)
            assert got == _reference_wrap(text, width, width_pt), (text, width_pt)
            if len(text) > 150 and width_pt == 442.0:
                assert fast < len(style._TOKEN.findall(text)) / 2  # the point of bisection


def test_png_is_rgb_with_matplotlibs_pixels_and_rgba_only_where_something_is_see_through(
    tmp_path,
):
    import io

    import numpy as np
    from PIL import Image

    style.use_style()
    fig, ax = plt.subplots(layout="constrained")
    ax.bar(["江苏", "广东"], [10, 8])
    path = style.save_figure(fig, tmp_path / "chart", formats=("png",))[0]
    ours = Image.open(path)
    theirs = io.BytesIO()
    with matplotlib.rc_context(style.DETERMINISTIC_RC):
        fig.savefig(theirs, format="png", dpi=200, metadata={"Software": None})
    theirs = Image.open(theirs)
    assert ours.mode == "RGB" and theirs.mode == "RGBA" and ours.size == theirs.size
    assert ours.info["dpi"] == pytest.approx((200, 200), abs=0.01)
    assert np.array_equal(np.asarray(ours), np.asarray(theirs)[..., :3])
    assert np.asarray(theirs)[..., 3].min() == 255  # nothing was lost with the alpha channel
    # A figure with a see-through ground keeps its alpha channel, and matplotlib's pixels.
    fig.patch.set_alpha(0.0)
    clear = Image.open(io.BytesIO(style.figure_png(fig)))
    theirs = io.BytesIO()
    with matplotlib.rc_context(style.DETERMINISTIC_RC):
        fig.savefig(theirs, format="png", dpi=200, metadata={"Software": None})
    assert clear.mode == "RGBA" and np.asarray(clear)[..., 3].min() == 0
    assert np.array_equal(np.asarray(clear), np.asarray(Image.open(theirs)))
    plt.close(fig)


def test_the_png_writer_makes_files_any_reader_takes_with_the_same_pixels() -> None:
    """`style._encode_png`: unfiltered rows, one IDAT chunk, the pHYs of the dpi; Pillow reads
    back the very pixels (RGB and RGBA, odd sizes), and checks every chunk's CRC on load."""
    import io

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(7)
    for shape in ((1, 1, 3), (37, 53, 3), (20, 7, 4)):
        pixels = rng.integers(0, 256, size=shape, dtype=np.uint8)
        data = style._encode_png(pixels, 200)
        image = Image.open(io.BytesIO(data))
        image.load()
        assert image.mode == ("RGB" if shape[2] == 3 else "RGBA")
        assert image.size == (shape[1], shape[0])
        assert image.info["dpi"] == pytest.approx((200, 200), abs=0.01)
        assert np.array_equal(np.asarray(image), pixels)


def test_a_tight_bounding_box_asked_for_in_the_rcparams_still_saves(tmp_path):
    import io

    from PIL import Image

    style.use_style()
    fig, ax = plt.subplots(layout="constrained")
    ax.bar(["江苏", "广东"], [10, 8])
    whole = Image.open(io.BytesIO(style.figure_png(fig)))
    with matplotlib.rc_context({"savefig.bbox": "tight"}):
        path = style.save_figure(fig, tmp_path / "tight", formats=("png",))[0]
    tight = Image.open(path)  # the box of what is drawn, padded: not the figure's canvas
    assert tight.format == "PNG" and tight.size != whole.size
    plt.close(fig)


def test_a_text_is_laid_out_once_and_every_change_that_matters_lays_it_out_again(monkeypatch):
    """`style._remember_text_layouts`: matplotlib's own layout, once per distinct text."""
    import matplotlib.text as mtext

    style.use_style("en")
    own = mtext.Text._get_layout.remembered  # matplotlib's
    layouts: list[str] = []

    def counted(self, renderer):
        layouts.append(self.get_text())
        return own(self, renderer)

    monkeypatch.setattr(style, "_LAYOUTS", {})
    monkeypatch.setattr(mtext.Text, "_get_layout", counted)
    style._remember_text_layouts()  # over the counting one
    fig, ax = plt.subplots(figsize=(3, 2), dpi=200)
    label = ax.text(0.2, 0.5, "Jiangsu 江苏\n12 clusters", fontsize=7, ha="center")
    renderer = fig.canvas.get_renderer()
    first = label.get_window_extent(renderer).get_points()
    assert (label.get_window_extent(renderer).get_points() == first).all()
    label._get_layout(renderer)[0].x0 += 100  # a caller's copy: what is kept does not move
    assert (label.get_window_extent(renderer).get_points() == first).all()
    assert layouts == ["Jiangsu 江苏\n12 clusters"]
    # Everything the layout depends on gives a new one, equal to matplotlib's own.
    changes = [
        lambda: label.set_fontsize(8),
        lambda: label.set_rotation(30),
        lambda: label.set_ha("right"),
        lambda: label.set_linespacing(1.5),
        lambda: label.set_fontweight("bold"),
        lambda: label.set_text("Jiangsu"),
        lambda: matplotlib.rcParams.update({"text.hinting": "none"}),
        lambda: matplotlib.rcParams.update({"font.family": ["DejaVu Sans"]}),
        lambda: fig.set_dpi(100),
    ]
    with matplotlib.rc_context():
        for n, change in enumerate(changes, 2):
            change()
            renderer = fig.canvas.get_renderer()
            kept = mtext.Text._get_layout(label, renderer)
            assert len(layouts) == n, (n, layouts)
            mine = own(label, renderer)
            assert (kept[0].get_points() == mine[0].get_points()).all()
            assert kept[1:] == (mine[1], mine[2])
    plt.close(fig)
