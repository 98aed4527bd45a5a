"""Reports and charts use only the fonts the project ships, whatever the machine has installed.

Nothing is installed: fontconfig is pointed (`FONTCONFIG_FILE`) at a temporary configuration
whose only fonts are impostors, copies of matplotlib's DejaVu Serif renamed "Noto Sans CJK SC"
and "Noto Sans" (the family names of the faces the project embeds) as Debian's `fonts-noto-cjk`
and `fonts-noto-core` would offer them.
fontconfig is read once per process, so each rendering runs in a subprocess of its own.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.paths import ROOT
from analysis.publish import export

IMPOSTOR_FAMILY = "Noto Sans CJK SC"
LATIN_IMPOSTOR_FAMILY = "Noto Sans"

RENDER_PDF = r"""
import sys
from nbformat.v4 import new_markdown_cell, new_notebook
from analysis.publish import export

cell = new_markdown_cell("# 江苏省先进制造业集群\n\n直骨关门 clusters, 2024: 45 个。")
cell["id"] = "fonts"  # nbformat draws a random id otherwise
nb = new_notebook(cells=[cell])
for lang in ("zh", "en"):  # a Chinese page (CJK face) and an English one (Latin face first)
    options = {"lang": lang, "job_id": f"fonts.{lang}"}
    page, _ = export.render_html(nb, options, notebook_dir=sys.argv[1])
    sys.stdout.buffer.write(export.render_pdf(page, base_url=sys.argv[1]))
"""

RENDER_CHART = r"""
import io, sys
from matplotlib import font_manager
# The guard of the test: matplotlib's fresh font list holds what fontconfig offers.
listed = sorted({e.name for e in font_manager.fontManager.ttflist if "impostor" in e.fname})
sys.stderr.write("impostors listed: " + ", ".join(listed) + "\n")
from analysis.report import chart_kit, style
for lang, title in (("zh", "先进制造业集群 clusters"), ("en", "“Building” clusters 江苏")):
    plt = chart_kit.setup(lang)  # an English chart: Latin text in "Noto Sans"
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.bar(["江苏", "Guangdong"], [3, 5])
    ax.set_title(title)
    for fmt in ("png", "svg"):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, metadata=style.SAVE_METADATA[fmt], dpi=100)
        sys.stdout.buffer.write(buffer.getvalue())
"""


@pytest.fixture(scope="module")
def impostor_config(tmp_path_factory) -> Path:
    """A fonts.conf whose one font folder offers serif fonts named "Noto Sans CJK SC" and
    "Noto Sans"."""
    import matplotlib
    from fontTools.ttLib import TTFont

    folder = tmp_path_factory.mktemp("impostor-fonts")
    source = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSerif.ttf"
    for family, postscript, file in (
        (IMPOSTOR_FAMILY, "NotoSansCJKsc-Regular", "impostor.ttf"),
        (LATIN_IMPOSTOR_FAMILY, "NotoSans-Regular", "latin-impostor.ttf"),
    ):
        with TTFont(str(source)) as font:
            for record in font["name"].names:
                if record.nameID in (1, 16):
                    record.string = family
                elif record.nameID in (2, 17):
                    record.string = "Regular"
                elif record.nameID == 4:
                    record.string = f"{family} Regular"
                elif record.nameID == 6:
                    record.string = postscript
            font.save(str(folder / file))
    config = folder / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        f"<fontconfig><dir>{folder}</dir><cachedir>{folder / 'cache'}</cachedir></fontconfig>\n",
        encoding="utf-8",
    )
    return config


def _run(
    script: str, tmp_path: Path, name: str, fontconfig: Path | None, stderr: list | None = None
) -> bytes:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FONTCONFIG")}
    # A fresh matplotlib font cache, built from what fontconfig lists in this process.
    env["MPLCONFIGDIR"] = str(tmp_path / f"mpl-{name}")
    if fontconfig is not None:
        env["FONTCONFIG_FILE"] = str(fontconfig)
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    if stderr is not None:
        stderr.append(done.stderr.decode(errors="replace"))
    return done.stdout


def test_the_impostor_is_what_fontconfig_offers(impostor_config: Path) -> None:
    # Guards the test itself: under the temporary configuration the family resolves to the
    # impostor, so the comparisons below do expose a page or chart that asks fontconfig.
    done = subprocess.run(
        ["fc-match", "--format=%{file}", IMPOSTOR_FAMILY],
        env={**os.environ, "FONTCONFIG_FILE": str(impostor_config)},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 and not done.stdout:  # pragma: no cover - fc-match not installed
        pytest.skip("fc-match is not installed")
    assert done.stdout.endswith("/impostor.ttf")
    done = subprocess.run(
        ["fc-match", "--format=%{file}", LATIN_IMPOSTOR_FAMILY],
        env={**os.environ, "FONTCONFIG_FILE": str(impostor_config)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout.endswith("/latin-impostor.ttf")


def test_pdf_bytes_do_not_depend_on_installed_fonts(impostor_config: Path, tmp_path) -> None:
    plain = _run(RENDER_PDF, tmp_path, "plain", None)
    impostor = _run(RENDER_PDF, tmp_path, "impostor", impostor_config)
    assert plain.startswith(b"%PDF-")
    assert plain.count(b"%PDF-") == 2
    assert impostor == plain, "WeasyPrint took an installed font named Noto Sans (CJK SC)"


def test_chart_bytes_do_not_depend_on_installed_fonts(impostor_config: Path, tmp_path) -> None:
    # Old code: matplotlib's fresh font list held the impostor first, so the family named it
    # and register_fonts refused to draw ("matplotlib did not select Noto Sans CJK SC").
    # The English chart: without "Noto Sans" among the names `_drop_installed_namesakes`
    # drops, matplotlib would take the impostor (listed first) for its Latin text.
    plain = _run(RENDER_CHART, tmp_path, "plain", None)
    log: list[str] = []
    impostor = _run(RENDER_CHART, tmp_path, "impostor", impostor_config, log)
    assert f"impostors listed: {LATIN_IMPOSTOR_FAMILY}, {IMPOSTOR_FAMILY}" in log[0]
    assert plain.startswith(b"\x89PNG") and plain.count(b"\x89PNG") == 2
    assert plain.count(b"<svg") == 2
    assert impostor == plain


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_names_no_font_an_installed_one_could_answer(lang, tmp_path) -> None:
    from nbformat.v4 import new_markdown_cell, new_notebook

    nb = new_notebook(cells=[new_markdown_cell("# 标题\n\n正文 text")])
    page, _ = export.render_html(nb, {"lang": lang}, notebook_dir=str(tmp_path))
    families = re.findall(r"font-family:\s*([^;}]+)", page)
    assert families
    embedded = {"zh": [export.EMBEDDED_FAMILY], "en": [export.LATIN_FAMILY, export.EMBEDDED_FAMILY]}
    allowed = {f'"{family}"' for family in embedded[lang]} | {"sans-serif", "inherit"}
    for declaration in families:
        names = {name.strip() for name in declaration.split(",")}
        assert names <= allowed, declaration
    for family in embedded[lang]:
        assert page.count(f'@font-face {{ font-family: "{family}"') == 1
    assert page.count("@font-face") == len(embedded[lang])
    assert f'"{IMPOSTOR_FAMILY}"' not in page and f'"{LATIN_IMPOSTOR_FAMILY}"' not in page
