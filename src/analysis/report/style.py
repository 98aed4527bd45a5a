"""Chart house style: the fonts, the theme and palettes, deterministic saving, the caption line.

Every chart in the project calls `use_style(lang)` once and `save_figure()` to write itself, so
that Chinese text renders with the Simplified Chinese face of Noto Sans CJK, English text with
Noto Sans (both shipped as Python packages, no system font needed), and the same figure always
gives the same bytes.

matplotlib is imported inside the functions so that importing this module stays cheap.
"""

from __future__ import annotations

import contextlib
import importlib
import re
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import EnvironmentSetupError
from ..io import atomic_path

# What the functions below import when first called: a report kernel imports these ahead of
# time (`analysis.publish.zygote.warm_up`), while `import analysis.report.style` itself stays cheap.
WARM_IMPORTS = (
    "matplotlib.pyplot",
    "seaborn",
    "cycler",
    "noto_cjk_sans_otc",
    "fontpkg_noto_sans",
    "matplotlib.textpath",
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure
    from matplotlib.text import Text

FONT_PACKAGE = "noto-cjk-sans-otc"
FONT_MODULE = "noto_cjk_sans_otc"
FONT_FILE = "NotoSansCJK-Regular.ttc"
# The family name of the Simplified Chinese face inside the collection. After
# `fontManager.addfont(ttc)` (matplotlib >= 3.11 indexes every face of a collection) this name
# selects face 2 of the file; `FontProperties(fname=ttc)` alone would give face 0, the Japanese one,
# whose forms of 直, 骨, 关, 门 and many other characters are wrong for Chinese text.
FONT_FAMILY = "Noto Sans CJK SC"
# Glyphs missing from Noto Sans CJK (a few math symbols) fall back to matplotlib's bundled font.
FALLBACK_FAMILY = "DejaVu Sans"
# The Latin face of English charts, as of English pages (`publish.export`): the upright file of
# the `fontpkg-noto-sans` package. It is variable in weight and width; FreeType, and so
# matplotlib, draws its default instance, which is Regular (wght 400, wdth 100).
LATIN_FONT_PACKAGE = "fontpkg-noto-sans"
LATIN_FONT_MODULE = "fontpkg_noto_sans"
LATIN_FONT_FILE = "NotoSans[wdth,wght].ttf"
LATIN_FAMILY = "Noto Sans"

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision
# deficiency. Ordered so that the first colours are the ones that work best as large map fills;
# black is left out because labels and outlines are drawn in it.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
)
# A neutral for "everything else", outlines and captions.
GREY = "#6E6E6E"
SEQUENTIAL_CMAP = "analysis_blues"

# Read by matplotlib at save time, so `save_figure` applies them itself as well: the bytes must
# not depend on whether `use_style()` was called.
DETERMINISTIC_RC: dict[str, Any] = {
    "svg.hashsalt": "analysis",  # clip-path and other ids are hashes salted with a fixed string
    "svg.fonttype": "path",  # glyphs as outlines: the SVG shows the same without the font
    "svg.id": None,
    "pdf.fonttype": 42,  # TrueType subset embedded, so text stays selectable and searchable
    "pdf.compression": 6,
    "path.simplify": True,
}

SAVE_METADATA: dict[str, dict[str, Any]] = {
    # Agg writes "Software: Matplotlib version X" unless told otherwise.
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    # None removes the key; the version of matplotlib would otherwise sit in Creator/Producer.
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
}

_registered_paths: tuple[Path, ...] | None = None


def font_path() -> Path:
    """Return the path of the Noto Sans CJK collection (.ttc) from the `noto-cjk-sans-otc` package.

    Raises EnvironmentSetupError when the package or its font file is missing.
    """
    module = _font_package(FONT_MODULE, _missing_font_message)
    from importlib.resources import as_file, files

    try:
        resource = files(module).joinpath(FONT_FILE)
        # The package is installed unzipped, so as_file hands back the real file, not a copy.
        with as_file(resource) as real:
            path = Path(real)
    except (FileNotFoundError, TypeError, ModuleNotFoundError) as exc:  # pragma: no cover
        raise EnvironmentSetupError(_missing_font_message(f"cannot locate {FONT_FILE}")) from exc
    if not path.is_file():
        raise EnvironmentSetupError(_missing_font_message(f"{FONT_FILE} is not in {path.parent}"))
    return path


def _font_package(name: str, message: Callable[[str], str]) -> Any:
    """Import the Python package that ships a font; EnvironmentSetupError (`message`) if absent."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise EnvironmentSetupError(message("the Python package is not installed")) from exc


def _missing_font_message(what: str) -> str:
    return (
        f"The chart font is missing: {what} ({FONT_PACKAGE}, which provides {FONT_FILE}, the "
        f"Noto Sans CJK collection used for every Chinese label). Charts would show empty boxes "
        f"instead of Chinese characters, so nothing was drawn. Run `make setup` (or `make test`, "
        f"which bootstraps .venv from requirements/lock.txt) and try again."
    )


def latin_font_path() -> Path:
    """Return the path of Noto Sans (upright, variable) from the `fontpkg-noto-sans` package.

    The one lookup of the Latin face: English charts draw with it and English pages embed a
    subset of it (`publish.export`). Raises EnvironmentSetupError when it is missing.
    """
    module = _font_package(LATIN_FONT_MODULE, _missing_latin_font_message)
    path = Path(module.ROOT) / "files" / LATIN_FONT_FILE
    if not path.is_file():
        raise EnvironmentSetupError(
            _missing_latin_font_message(f"{LATIN_FONT_FILE} is not in {path.parent}")
        )
    return path


def _missing_latin_font_message(what: str) -> str:
    return (
        f"The Latin font is missing: {what} ({LATIN_FONT_PACKAGE}, which provides "
        f"{LATIN_FONT_FILE}, the Noto Sans face of English charts and pages). Run `make setup` "
        f"(or `make test`, which bootstraps .venv from requirements/lock.txt) and try again."
    )


def font_stack(lang: object) -> list[str]:
    """The families a chart in `lang` asks for a character, in order.

    English is set Latin first, as English pages are: Noto Sans, then the CJK face for any
    Chinese glyph (matplotlib >= 3.6 falls back glyph by glyph along `font.sans-serif`), then
    DejaVu Sans. In the CJK face, Latin letters and quote marks are its own (the quotes full
    width: ‘“Building”’ stood apart from the words). Chinese keeps the CJK face first.
    """
    from .lang import check_lang

    if check_lang(lang).html.startswith("en"):
        return [LATIN_FAMILY, FONT_FAMILY, FALLBACK_FAMILY]
    return [FONT_FAMILY, FALLBACK_FAMILY]


def register_fonts() -> Path:
    """Add Noto Sans CJK and Noto Sans to matplotlib's font manager and return the .ttc path
    (idempotent).

    After this, the family name `FONT_FAMILY` ("Noto Sans CJK SC") selects the Simplified Chinese
    face of the collection and `LATIN_FAMILY` ("Noto Sans") the shipped Latin file.
    """
    global _registered_paths
    path = font_path()
    paths = (path, latin_font_path())
    if _registered_paths == paths:
        return path
    from matplotlib import font_manager

    known = {Path(entry.fname) for entry in font_manager.fontManager.ttflist}
    for font in paths:
        if font not in known:
            font_manager.fontManager.addfont(str(font))
    _drop_installed_namesakes(font_manager.fontManager, paths)
    for family, font in ((FONT_FAMILY, path), (LATIN_FAMILY, paths[1])):
        found = font_manager.findfont(
            font_manager.FontProperties(family=family), fallback_to_default=False
        )
        if Path(found) != font:  # pragma: no cover - only with a broken or foreign font package
            raise EnvironmentSetupError(
                f"matplotlib did not select {family} from {font} (it chose {found}). "
                f"The font collection needs matplotlib >= 3.11; run `make setup` to rebuild "
                f".venv from requirements/lock.txt."
            )
    _registered_paths = paths
    return path


def _shipped_font_dirs(paths: Iterable[Path]) -> tuple[Path, ...]:
    """The folders whose fonts charts may use: the font packages' and matplotlib's own."""
    import matplotlib

    return (
        *(font.parent.resolve() for font in paths),
        (Path(matplotlib.get_data_path()) / "fonts").resolve(),
    )


def _drop_installed_namesakes(manager: Any, paths: Iterable[Path]) -> None:
    """Forget installed fonts that bear the name of a font the project or matplotlib ships.

    matplotlib's font list also holds the machine's fonts (its cache is built from fc-list and
    the system font folders), and on a tie it prefers the first one listed, which is never the
    collection added here. With Debian's `fonts-noto-cjk` installed, "Noto Sans CJK SC" then
    named the system file; with `fonts-noto-core`, "Noto Sans" would name a system file (and its
    bold and condensed styles); a system "DejaVu Sans" of another release could take the
    fallback's place. Removing those namesakes leaves every family the charts ask for with only
    the shipped file, so the chart bytes do not depend on the machine's fonts.
    """
    shipped_dirs = _shipped_font_dirs(paths)

    def shipped(entry: Any) -> bool:
        return any(Path(entry.fname).resolve().is_relative_to(d) for d in shipped_dirs)

    names = {entry.name for entry in manager.ttflist if shipped(entry)}
    kept = [entry for entry in manager.ttflist if shipped(entry) or entry.name not in names]
    if len(kept) != len(manager.ttflist):
        manager.ttflist = kept
        manager._findfont_cached.cache_clear()


def sequential_cmap() -> Colormap:
    """Return the house sequential colormap for choropleths (registered as `SEQUENTIAL_CMAP`).

    A single blue hue whose lightness falls monotonically (cubehelix without rotation), so that
    order reads correctly in greyscale and for colour-blind readers; it starts at a light tint
    rather than white so that the lowest class stays distinct from the white background.
    """
    import matplotlib

    if SEQUENTIAL_CMAP in matplotlib.colormaps:
        return matplotlib.colormaps[SEQUENTIAL_CMAP]
    import seaborn as sns

    cmap = sns.cubehelix_palette(
        start=2.75, rot=0.0, gamma=1.0, hue=0.9, light=0.92, dark=0.18, as_cmap=True
    )
    cmap.name = SEQUENTIAL_CMAP
    matplotlib.colormaps.register(cmap, name=SEQUENTIAL_CMAP)
    return matplotlib.colormaps[SEQUENTIAL_CMAP]


def style_rc(lang: object = "zh") -> dict[str, Any]:
    """Return the rcParams of the house style for charts in `lang` (theme, fonts, sizes,
    determinism)."""
    stack = font_stack(lang)
    return {
        # The stack by name, not the generic "sans-serif": matplotlib falls back glyph by glyph
        # only along a list of families ("sans-serif" resolves to its first family alone, where
        # the Chinese characters of an English chart have no glyph), and a text takes the list
        # when it is made, while "sans-serif" is looked up when it is drawn: a Chinese figure
        # drawn after an English chart was set up would have been set in the English stack.
        # Along a list matplotlib no longer warns of a missing glyph: `warn_missing_glyphs`.
        "font.family": stack,
        "font.sans-serif": stack,
        # The collection has one weight only; asking for bold would fall back to a foreign font.
        "axes.titleweight": "normal",
        "figure.titleweight": "normal",
        "axes.unicode_minus": False,  # an ASCII hyphen-minus, identical in every face
        # Sizes that read well at A4 text width (~16 cm) and on a 16:9 slide.
        "figure.figsize": (6.4, 4.2),
        "figure.dpi": 100,
        "savefig.dpi": 200,
        "savefig.facecolor": "white",
        "figure.facecolor": "white",
        "axes.facecolor": "white",
        "font.size": 10,
        "axes.titlesize": 12,
        "axes.titlelocation": "left",
        "axes.labelsize": 10,
        "xtick.labelsize": 9,
        "ytick.labelsize": 9,
        "legend.fontsize": 9,
        "legend.title_fontsize": 9,
        "legend.frameon": False,
        "axes.edgecolor": "#BBBBBB",
        "axes.labelcolor": "#222222",
        "xtick.color": "#444444",
        "ytick.color": "#444444",
        "text.color": "#222222",
        "axes.grid": True,
        "grid.color": "#E6E6E6",
        "grid.linewidth": 0.6,
        "axes.axisbelow": True,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "figure.constrained_layout.use": True,
        "image.cmap": SEQUENTIAL_CMAP,
        **DETERMINISTIC_RC,
    }


# The rcParams a text's layout depends on besides its own properties: the font stacks a
# family name resolves through, and hinting, which changes glyph advances; mathtext's only for
# a text with a "$" (`_layout_key`).
_LAYOUT_RC = (
    "font.family",
    "font.sans-serif",
    "font.serif",
    "font.monospace",
    "font.cursive",
    "font.fantasy",
    "text.hinting",
    "text.hinting_factor",
    "text.kerning_factor",
)
_LAYOUTS: dict[tuple[Any, ...], Any] = {}
_LAYOUTS_MAX = 50_000


def _layout_key(text: Any, renderer: Any) -> tuple[Any, ...] | None:
    """What `matplotlib.text.Text._get_layout` computes a text's layout from, as a key (None
    for a text it lays out by other means: wrapped to its figure, or set by TeX)."""
    import matplotlib as mpl
    from matplotlib.font_manager import fontManager

    if text.get_wrap() or text.get_usetex():
        return None
    string = text.get_text()
    rc = mpl.rcParams
    read = dict.get  # the stored value, without rcParams' per-read checks (and warnings)
    figure = text.get_figure(root=True)
    return (
        type(renderer),
        getattr(renderer, "dpi", None),
        None if figure is None else figure.dpi,
        string,
        text._fontproperties,
        text.get_parse_math(),
        text._linespacing,
        text._get_multialignment(),
        text.get_rotation(),
        text.get_rotation_mode(),
        text._horizontalalignment,
        text._verticalalignment,
        tuple(str(read(rc, name)) for name in _LAYOUT_RC),
        tuple((name, str(value)) for name, value in rc.items() if name.startswith("mathtext."))
        if "$" in string
        else None,
        len(fontManager.ttflist),
    )


def _remember_text_layouts() -> None:
    """Make matplotlib lay out a text once for all it asks of it (`Text._get_layout`).

    matplotlib lays out a text (finds its fonts, reads their tables, shapes each line) every
    time it needs the text's extent: for the constrained layout, for each label pushed apart
    on a map (`map_labels`), for the save. A province map asked 270 times for about 50
    different texts: 31 ms of a 0.21 s map (en). The layout is kept under everything it is
    computed from (`_layout_key`: the text, its font properties, alignment, rotation and line
    spacing, the figure's dpi, the renderer's kind and dpi, the font rcParams, the fonts
    registered), and each caller gets its own copy of the box, so the charts are the same,
    byte for byte. Layouts kept in the template process are the kernels' too (`chart_kit`).
    """
    import matplotlib.text as mtext
    from matplotlib.transforms import Bbox

    own = mtext.Text._get_layout
    if getattr(own, "remembered", None) is not None:
        return  # installed already

    def get_layout(self: Any, renderer: Any) -> Any:
        key = _layout_key(self, renderer)
        if key is None:
            return own(self, renderer)
        kept = _LAYOUTS.get(key)
        if kept is None:
            bbox, lines, corner = own(self, renderer)
            if len(_LAYOUTS) >= _LAYOUTS_MAX:
                _LAYOUTS.clear()
            # The font properties are mutable: the key keeps a copy of them as they were.
            key = (*key[:4], self._fontproperties.copy(), *key[5:])
            kept = _LAYOUTS[key] = (bbox.get_points().copy(), tuple(lines), corner)
        points, lines, corner = kept
        return Bbox(points.copy()), list(lines), corner

    get_layout.remembered = own  # type: ignore[attr-defined]
    mtext.Text._get_layout = get_layout


def use_style(lang: object = "zh") -> None:
    """Apply the house style for charts in `lang` to matplotlib globally (idempotent): fonts,
    theme, palette, colormap.

    Every call sets the whole style, the font stack of `lang` included (`font_stack`), so a
    Chinese chart drawn after an English one in the same kernel is CJK first again.
    """
    rc = style_rc(lang)  # validates lang before anything changes
    register_fonts()
    _remember_text_layouts()
    import matplotlib as mpl
    import seaborn as sns
    from cycler import cycler

    sequential_cmap()
    # seaborn's "whitegrid" resets a few rcParams; ours are applied after it, so they win.
    sns.set_theme(context="paper", style="whitegrid", palette=list(PALETTE))
    mpl.rcParams.update(rc)
    mpl.rcParams["axes.prop_cycle"] = cycler(color=list(PALETTE))


def save_figure(
    fig: Figure,
    stem: Path,
    formats: Sequence[str] = ("png", "svg", "pdf"),
    dpi: int = 200,
    **savefig_kwargs: Any,
) -> list[Path]:
    """Write `fig` as `<stem>.<format>` for each format, atomically, and return the paths.

    The bytes depend only on the figure: no software version, date or random id is written, so
    saving the same figure in another process gives identical files. The layout (constrained
    layout, the house default) is computed once, for the first format, and the others are
    drawn with it; the PNG is kept with the figure, so that a notebook shows those very bytes
    (`figure_png`) instead of drawing the figure once more.
    """
    import io

    import matplotlib as mpl

    fmts = [fmt.lower().lstrip(".") for fmt in formats]
    unknown = [fmt for fmt in fmts if fmt not in SAVE_METADATA]
    if unknown:
        raise ValueError(
            f"save_figure: format {unknown[0]!r} is not supported; use one of "
            f"{', '.join(sorted(SAVE_METADATA))}."
        )
    stem = Path(stem)
    written: list[Path] = []
    png: bytes | None = None
    with mpl.rc_context(DETERMINISTIC_RC), contextlib.ExitStack() as stack:
        for index, fmt in enumerate(fmts):
            if index == 1:
                # The first format ran the layout; the others are drawn with its result,
                # rounded: the layout solver's last bits vary between processes, and the SVG
                # names each clip path by a hash of its exact rectangle.
                _round_positions(fig)
                stack.enter_context(_layout_frozen(fig))
            if fmt == "png" and not savefig_kwargs:
                data = _png_bytes(fig, dpi)
            else:
                buffer = io.BytesIO()
                fig.savefig(
                    buffer,
                    format=fmt,
                    dpi=dpi,
                    metadata=dict(SAVE_METADATA[fmt]),
                    **savefig_kwargs,
                )
                data = buffer.getvalue()
            target = stem.parent / f"{stem.name}.{fmt}"
            with atomic_path(target) as tmp:
                tmp.write_bytes(data)
            written.append(target)
            if fmt == "png" and not savefig_kwargs:
                png = data
    if png is not None:
        _remember_png(fig, png, dpi)
    return written


def _round_positions(fig: Figure, digits: int = 9) -> None:
    """Round every axes' laid-out position to `digits` decimals of the figure.

    Constrained layout solves its constraints with kiwisolver, whose results can differ in the
    last bits from one process to another (they depend on where objects sit in memory); a
    billionth of the figure is far below a pixel, so the drawing is the same, and the floats
    that the SVG backend hashes into clip-path ids are the same in every process.
    """
    for ax in fig.axes:
        in_layout = ax.get_in_layout()
        bounds = ax.get_position(original=True).bounds
        ax.set_position([round(v, digits) for v in bounds], which="original")
        # set_position takes the axes out of the layout; a later draw (the notebook's, after
        # an edit) must lay them out again.
        ax.set_in_layout(in_layout)


@contextlib.contextmanager
def _layout_frozen(fig: Figure) -> Iterator[None]:
    """Draw `fig` without its layout engine (positions stay where the last draw put them).

    `savefig` runs the layout engine (constrained layout, the house default) in a draw of its
    own before the real one: for a map that is most of the time a format takes to save.
    """
    import matplotlib as mpl

    engine = fig.get_layout_engine()
    if engine is None:
        yield
        return
    # With both rcParams off, `set_layout_engine(None)` removes the engine altogether; "none"
    # would leave a placeholder, for which `savefig` still draws twice.
    with mpl.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
        fig.set_layout_engine(None)
    try:
        yield
    finally:
        fig.set_layout_engine(engine)


# PNG bytes last saved by `save_figure`, per figure (forgotten with the figure).
_SAVED_PNG: weakref.WeakKeyDictionary[Any, tuple[bytes, float]] = weakref.WeakKeyDictionary()
DISPLAY_DPI = 200  # inline figures: the resolution of the saved PNG, so that one serves both


def _remember_png(fig: Figure, png: bytes, dpi: float) -> None:
    # Saving leaves the figure marked stale (its dpi was changed and restored); from now on,
    # only a change to the figure marks it stale again, and the PNG is then out of date.
    fig.stale = False
    _SAVED_PNG[fig] = (png, dpi)


def figure_png(fig: Figure, dpi: float = DISPLAY_DPI) -> bytes:
    """The figure as PNG at `dpi` (no date or version written, the house rcParams for saving).

    When `save_figure` wrote this figure at that dpi and nothing changed since, these are the
    bytes it wrote, without drawing again.
    """

    import matplotlib as mpl

    saved = _SAVED_PNG.get(fig)
    if saved is not None and saved[1] == dpi and not fig.stale:
        return saved[0]
    with mpl.rc_context(DETERMINISTIC_RC):
        return _png_bytes(fig, dpi)


# zlib level of the charts' PNG files, written unfiltered (`_encode_png`). Measured on the 80
# charts of a full build: Pillow's writer (adaptive row filters, level 3) 1.83 s and 20.6 MB;
# unfiltered, level 3, 0.71 s and 17.3 MB. Flat colours and text compress better as they are
# than as differences between neighbouring pixels (a province map: 268 KB filtered, 220 KB not).
PNG_COMPRESS_LEVEL = 3


def _png_bytes(fig: Figure, dpi: float) -> bytes:
    """The figure drawn at `dpi` as a PNG file: RGB when every pixel is opaque, else RGBA.

    matplotlib writes RGBA always, a fourth channel that holds 255 in every pixel of a chart
    on a white ground. Without it the file is smaller and quicker to write, and the PDF step
    can embed its image data as it is (`publish.export`), where an alpha channel has to be
    split off and both parts compressed again. The same pixels either way; the pHYs chunk
    (`dpi`) and no text chunk, as matplotlib writes with `SAVE_METADATA`.
    """
    import io

    import numpy as np

    raw = io.BytesIO()
    fig.savefig(raw, format="rgba", dpi=dpi)
    # The size of the canvas Agg drew (`FigureCanvasBase.get_width_height`: the figure's size
    # in inches times the dpi, truncated, or rounded up when within 1e-8 of the next pixel).
    width, height = (int(inches * dpi + 1e-8) for inches in fig.get_size_inches())
    pixels = np.frombuffer(raw.getbuffer(), dtype=np.uint8)
    if pixels.size != width * height * 4:
        # Not the whole canvas (a notebook set rcParams["savefig.bbox"] = "tight", which crops
        # to a size only matplotlib knows): matplotlib's own PNG, RGBA, as before.
        del pixels
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=dpi, metadata=dict(SAVE_METADATA["png"]))
        return out.getvalue()
    image = pixels.reshape(height, width, 4)
    if image[..., 3].min() == 255:
        image = image[..., :3]
    return _encode_png(image, dpi)


def _encode_png(image: Any, dpi: float) -> bytes:
    """An 8-bit RGB or RGBA PNG of `image` (height x width x 3 or 4, uint8): IHDR, pHYs
    (`dpi`, as Pillow writes it), one IDAT chunk of unfiltered rows (filter type 0 before each)
    compressed at `PNG_COMPRESS_LEVEL`, IEND. The format of the PNG specification, section 11:
    any PNG reader reads it (tested with Pillow, pypdf's and WeasyPrint's)."""
    import struct
    import zlib

    import numpy as np

    height, width, channels = image.shape
    rows = np.zeros((height, width * channels + 1), dtype=np.uint8)
    rows[:, 1:] = image.reshape(height, width * channels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    per_metre = int(dpi / 0.0254 + 0.5)
    colour = {3: 2, 4: 6}[channels]
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)),
            chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
            chunk(b"IDAT", zlib.compress(rows.tobytes(), PNG_COMPRESS_LEVEL)),
            chunk(b"IEND", b""),
        )
    )


# Characters that must not start a line (closing punctuation) in Chinese line breaking.
_NO_LINE_START = set("，。、；：！？）》」』”’,.;:!?)")
# Opening quotes and brackets stay with what follows them: an English caption had broken after
# the “ of a section title, leaving the quote mark alone at the end of a line.
_TOKEN = re.compile(r"[“‘《（(「『]*(?:[A-Za-z0-9'’\-–/.,:;!?()]+\s*|\s+|.)", re.S)


# Measured text depends on the text, the size and the rcParams of fonts and text (the family
# and its stack, hinting, the save dpi): results kept under all of those, in this process and
# in the kernels forked from the template process after it filled them (`chart_kit`).
_MEASURED: dict[tuple[Any, ...], Any] = {}


def _text_rc() -> tuple[Any, ...]:
    """The rcParams a text's measurement depends on, as a key."""
    import matplotlib as mpl

    return tuple(
        (key, str(value))
        for key, value in sorted(mpl.rcParams.items())
        if key.startswith(("font.", "text.", "mathtext.")) or key == "savefig.dpi"
    )


def _wrap_to_width(text: str, width_pt: float, fontsize: float) -> str:
    """`_wrap_measured`, remembered: a map's source line is the same in every profile of a
    language, and wrapping it measured it a dozen times (15 ms of a 0.21 s map)."""
    key = ("wrap", text, width_pt, fontsize, _text_rc())
    if key not in _MEASURED:
        _MEASURED[key] = _wrap_measured(text, width_pt, fontsize)
    return _MEASURED[key]


def _wrap_measured(text: str, width_pt: float, fontsize: float) -> str:
    """Break `text` into lines no wider than `width_pt` points, between CJK characters or words.

    Measured in the default family, the one the caption is drawn in: the font stack of the
    chart's language, as `use_style(lang)` set it. A line is as wide as the wider of its outline
    (the SVG) and its hinted rendering at the PNG's resolution, which in Noto Sans is some 4 %
    wider: measured by outlines alone, English captions ran off the right edge of the PNG.
    """
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    measure = TextToPath()
    dpi = float(mpl.rcParams["savefig.dpi"]) if mpl.rcParams["savefig.dpi"] != "figure" else 200.0
    raster = RendererAgg(1, 1, dpi)
    prop = FontProperties(size=fontsize)

    def width(s: str) -> float:
        outline = measure.get_text_width_height_descent(s, prop, ismath=False)[0]
        hinted = raster.get_text_width_height_descent(s, prop, ismath=False)[0] * 72 / dpi
        return max(outline, hinted)

    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines += _greedy_lines(_TOKEN.findall(paragraph), width, width_pt)
    return "\n".join(lines)


def _greedy_lines(tokens: list[str], width: Callable[[str], float], limit: float) -> list[str]:
    """Lines of `tokens`, each broken before the first token that takes it past `limit`, unless
    that token may not start a line (`_NO_LINE_START`); the breaking token loses its leading
    space. Measuring each line as it grows token by token took 29 measurements for a 197-
    character caption (a quarter of a province map's draw); the width of a growing line only
    grows, so the first token past the limit is found by bisection, in about five."""
    lines: list[str] = []
    head, start = "", 0  # the current line: head, then tokens[start:]
    while True:
        # Tokens before `first` are never measured: the first token of a line that starts empty.
        first = start if head else start + 1
        low, high = first, len(tokens)  # the first index past the limit is in [low, high]
        while low < high:
            middle = (low + high) // 2
            if width((head + "".join(tokens[start : middle + 1])).rstrip()) > limit:
                high = middle
            else:
                low = middle + 1
        cut = low
        while cut < len(tokens) and tokens[cut][0] in _NO_LINE_START:
            cut += 1  # closing punctuation stays on the line it closes
        if cut >= len(tokens):
            lines.append((head + "".join(tokens[start:])).rstrip())
            return lines
        lines.append((head + "".join(tokens[start:cut])).rstrip())
        head, start = tokens[cut].lstrip(), cut + 1


# The closest two lines of Latin text sit in an English chart, in ems: at the CJK face's own
# pitch (1.0 em for `linespacing="normal"`) a descender of one line met an ascender of the next.
MIN_LATIN_PITCH_EM = 1.15


def _line_box_em(family: Any) -> float:
    """How far apart matplotlib sets two lines in `family` at `linespacing=1`, in ems
    (remembered as `_wrap_to_width` is: 7 ms of an English map, for the same two numbers)."""
    key = ("line box", tuple(family), _text_rc())
    if key not in _MEASURED:
        _MEASURED[key] = _line_box_measured(family)
    return _MEASURED[key]


def _line_box_measured(family: Any) -> float:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    fig = Figure(dpi=72)
    renderer = FigureCanvasAgg(fig).get_renderer()
    prop = FontProperties(family=family, size=10)

    def height(s: str) -> float:
        text = fig.text(0, 0, s, fontproperties=prop, linespacing=1.0)
        return text.get_window_extent(renderer).height

    return (height("Al\nAl") - height("Al")) / 10


def even_line_pitch(fig: Figure) -> None:
    """Set the lines of every multi-line text of `fig` as far apart as in the CJK face.

    matplotlib spaces lines by the line box of the first face of the stack: Noto Sans (English
    charts) has one a third taller than Noto Sans CJK's, so a two-line label had a gap between
    its lines as wide as the one to the next label, and the timeline's labels, spaced for the
    CJK pitch, ran into each other. Each text keeps the pitch the CJK face would give it, but
    never less than `MIN_LATIN_PITCH_EM`. Chinese charts are left exactly as they are.
    """
    import matplotlib as mpl
    from matplotlib.text import Text

    stack = list(mpl.rcParams["font.sans-serif"])
    if not stack or stack[0] == FONT_FAMILY:
        return
    cjk_box, latin_box = _line_box_em([FONT_FAMILY]), _line_box_em(stack)
    for text in fig.findobj(Text):
        if "\n" not in text.get_text():
            continue
        spacing = text.get_linespacing()
        spacing = 1.0 if spacing == "normal" else float(spacing)
        pitch = max(spacing * cjk_box, MIN_LATIN_PITCH_EM)
        text.set_linespacing(round(pitch / latin_box, 4))


def wrap_caption(text: str, width_in: float, fontsize: float = 7.5) -> str:
    """The source line `text` broken into lines that fit a figure `width_in` inches wide."""
    return _wrap_to_width(text, width_in * 72 * 0.96, fontsize)


def add_caption(fig: Figure, text: str, *, fontsize: float = 7.5) -> Text:
    """Put the source line ("来源：赛迪智库《…》") at the bottom left of `fig`, below all axes.

    With constrained layout (the house default) the caption is the figure's `supxlabel`, which the
    layout engine reserves room for; otherwise the subplots are moved up to make room. Long
    captions are wrapped to the figure width.
    """
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    wrapped = wrap_caption(text, fig.get_figwidth(), fontsize)
    engine = fig.get_layout_engine()
    if engine is None:
        try:
            fig.set_layout_engine("constrained")
            engine = fig.get_layout_engine()
        except RuntimeError:  # pragma: no cover - a colorbar made for another engine
            engine = None
    kwargs = dict(
        x=0.01, ha="left", va="bottom", fontsize=fontsize, color=GREY, fontweight="normal"
    )
    if isinstance(engine, ConstrainedLayoutEngine):
        # No `y`: the engine then places the label itself and reserves its height.
        return fig.supxlabel(wrapped, **kwargs)
    # Explicit layout: measure the caption, then lift the subplots above it.
    caption = fig.text(s=wrapped, y=0.01, **kwargs)
    renderer = fig.canvas.get_renderer()
    top = caption.get_window_extent(renderer).transformed(fig.transFigure.inverted()).y1
    bottom = top + 0.02
    params = fig.subplotpars
    if params.bottom < bottom:
        fig.subplots_adjust(bottom=bottom, top=max(params.top, bottom + 0.1))
    return caption


def warn_missing_glyphs(fig: Figure) -> set[str]:
    """Warn (UserWarning, as matplotlib does for one font) of the characters of `fig`'s texts
    that no face of its font stack draws, and return them."""
    import warnings

    import matplotlib as mpl
    from matplotlib.ft2font import FT2Font
    from matplotlib.text import Text

    stack = list(mpl.rcParams["font.sans-serif"])
    chars = {ch for t in fig.findobj(Text) for ch in t.get_text() if not ch.isspace()}
    missing = missing_glyphs(chars)
    if LATIN_FAMILY in stack and missing:
        cmap = FT2Font(str(latin_font_path())).get_charmap()
        missing = {ch for ch in missing if ord(ch) not in cmap}
    if FALLBACK_FAMILY in stack and missing:
        import matplotlib.font_manager as fm

        cmap = FT2Font(fm.findfont(fm.FontProperties(family=FALLBACK_FAMILY))).get_charmap()
        missing = {ch for ch in missing if ord(ch) not in cmap}
    for ch in sorted(missing):
        warnings.warn(
            f"Glyph {ord(ch)} ({ch!r}) missing from font(s) {', '.join(stack)}.", stacklevel=2
        )
    return missing


def missing_glyphs(text: Iterable[str]) -> set[str]:
    """Return the characters of `text` that the SC face of Noto Sans CJK has no glyph for."""
    from matplotlib.ft2font import FT2Font

    path = font_path()
    face = FT2Font(str(path), face_index=sc_face_index())
    cmap = face.get_charmap()
    return {ch for chunk in text for ch in chunk if not ch.isspace() and ord(ch) not in cmap}


def sc_face_index() -> int:
    """Return the index of the Simplified Chinese face inside the .ttc collection."""
    from matplotlib.ft2font import FT2Font

    path = str(font_path())
    first = FT2Font(path)
    for index in range(first.num_faces):
        if FT2Font(path, face_index=index).family_name == FONT_FAMILY:
            return index
    raise EnvironmentSetupError(  # pragma: no cover - a different font file in the package
        f"{path} holds no face named {FONT_FAMILY}; the {FONT_PACKAGE} package is not the one "
        f"pinned in requirements/lock.txt. Run `make setup` to reinstall it."
    )
