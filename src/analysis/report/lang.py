"""The report language: validated once where a report starts, then carried as a `Lang`.

A `Lang` is the language code itself (a `str`: "zh" or "en", so it prints, compares and names
files as the code does) that also knows its words, read once from `words/<lang>.toml`: the
templates of every sentence, the labels and column headers, how numbers, lists, ranks and
dates are written (`[format]`), the words of the maps (`[map]`) and of the report page
(`[page]`). Code that needs a word or a format asks the `Lang` instead of branching on the
code, so adding a language is adding a words file.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path
from typing import Any

from ..errors import AnalysisError, InputError
from ..paths import relative

LANGS: tuple[str, ...] = ("zh", "en")
WORDS_DIR = Path(__file__).resolve().parent / "words"


class UnknownLanguageError(AnalysisError, ValueError):
    """A report language other than the ones the words files exist for."""


class Lang(str):
    """A report language: its code, and its words and formats (`words`, `fmt`, `html`)."""

    __slots__ = ()

    def __new__(cls, code: object) -> Lang:
        if isinstance(code, Lang):
            return code
        if isinstance(code, str) and code in LANGS:
            return super().__new__(cls, code)
        raise UnknownLanguageError(
            f"Unknown report language {code!r}: the reports exist in {', '.join(LANGS)} "
            f"(zh = Simplified Chinese, en = English). Pass lang='zh' or lang='en'."
        )

    @property
    def code(self) -> str:
        """The plain code ("zh", "en")."""
        return str.__str__(self)

    @property
    def words(self) -> dict[str, Any]:
        """Every word of the language (the parsed `words/<lang>.toml`)."""
        return load_words(self.code)

    @property
    def fmt(self) -> dict[str, Any]:
        """How numbers, lists, ranks and dates are written (`[format]`)."""
        return self.words["format"]

    @property
    def is_source(self) -> bool:
        """True for the language of the source text: its names and terms print as they are."""
        return bool(self.fmt["source_language"])

    @property
    def html(self) -> str:
        """The HTML `lang` attribute (zh-CN picks the Simplified Chinese glyphs)."""
        return str(self.fmt["html_lang"])

    def pick(self, source: Any, translated: Any) -> Any:
        """`source` in the source's language, else `translated` (a column pair, a name pair)."""
        return source if self.is_source else translated

    def __repr__(self) -> str:
        return f"Lang({self.code!r})"


def check_lang(lang: object) -> Lang:
    """The `Lang` of `lang` ("zh", "en" or a `Lang`), else UnknownLanguageError naming both."""
    return Lang(lang)


@functools.cache
def load_words(code: str) -> dict[str, Any]:
    """The words file of one language, parsed once per process."""
    path = WORDS_DIR / f"{code}.toml"
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(f"{relative(path)} is missing; restore it from git.") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{relative(path)}: {exc}. Fix the TOML syntax and run again.") from None


def template_text(key: str, lang: object) -> str:
    """The raw template at dotted `key` ("cluster_policy.summary") in `lang`."""
    node: Any = check_lang(lang).words
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            path = relative(WORDS_DIR / f"{Lang(lang).code}.toml")
            raise KeyError(f"{path} has no template {key!r} (missing part {part!r})")
        node = node[part]
    if not isinstance(node, str):
        raise KeyError(f"template {key!r} in {lang} is a table, not a string")
    return node
