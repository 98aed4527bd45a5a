"""Damage clean text the way a page extraction does, and record where: the detectors' test bed.

The repair detectors were written against one source; this module measures them on documents
whose damage is known. `damage_document` takes clean articles (from the project's repaired
corpus, `articles_from_corpus`, or from Markdown written for the purpose,
`articles_from_markdown`) and, with a seeded `random.Random`, prints them as a page extraction
would:

- `reading_order`: a fragment of a section — from its heading to a point inside one of its
  sentences — printed elsewhere: before or after its place, in its own article or another,
  where a section or an article ends (before a heading or a title, or at the end of the file).
  The rest of the cut sentence stays where the section was. Ground truth: the block that now
  dangles and the block that continues it (and the join of the two, `page_break_join`).
- `page_break_join`: a paragraph split at a random point inside a sentence, the two halves
  printed as two paragraphs; sometimes with `page_furniture` between them (a page number, a
  running head with the page, a date line).
- `pull_quote`: a restatement of a sentence of a nearby paragraph (whole, or without its first
  or a middle clause) printed as a paragraph before or after it, or before the heading over it.
- `doubled_char`: one Han character printed twice.
- `punctuation`: full-width ，；：？！ between Han characters printed half-width.

Every damage is recorded as a `Damage` with the raw block numbers (and for character damage
the raw character offset) a correct detector names, so `score` can count, per kind, what the
pipeline proposed that is right (true positive), what it proposed that is not (false positive)
and what it missed. The same seed gives the same documents on any machine.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .audit import STAGE_ORDER
from .detectors import REDUPLICATING, is_sentence_like, starts_mid_sentence
from .model import Corpus
from .origin import ArticleOrigin, SourceOrigin
from .parse import is_byline_text, is_subheading_text, split_blocks
from .punctuation import CLOSERS, FULL_TO_HALF, is_han, is_terminated, split_sentences

# Every repair stage but errata (reviewed corrections of the printed text, not damage a page
# extraction makes), in the pipeline's order: a new detector's kind is listed once, there.
DAMAGE_KINDS = tuple(kind for kind in STAGE_ORDER if kind != "erratum")
HEADING_ROLES = ("heading", "subheading")
# Marks the generator prints half-width: those the rule converts between Han characters.
_HALF_MARKS = "，；：？！"
_FURNITURE_FORMS = (
    "— {n} —",
    "第{n}版",
    "{n}",
    "专题研究 第{n}版",
    "{y}年{m}月{d}日 第{n}版",
    "- {n} -",
)


@dataclass(frozen=True)
class CleanUnit:
    """A paragraph of clean text: `heading` (with its Markdown level), `subheading` or `body`."""

    role: str
    text: str
    level: int = 0


@dataclass(frozen=True)
class CleanArticle:
    """A clean article: title, byline and paragraphs in reading order."""

    title: str
    institute: str
    authors: tuple[str, ...]
    units: tuple[CleanUnit, ...]


@dataclass(frozen=True)
class Damage:
    """One damage done, and where a correct detector finds it: raw block numbers (1-based)
    and, for character damage, the raw character offset."""

    kind: str
    blocks: tuple[int, ...]
    offset: int = -1


@dataclass(frozen=True)
class DamagedDocument:
    """A generated page extraction, its origin record, the damage done and the clean text."""

    name: str
    text: str
    origin: SourceOrigin
    damages: tuple[Damage, ...]
    clean: tuple[str, ...]  # headings and paragraphs of the clean articles, in reading order


def articles_from_markdown(text: str) -> list[CleanArticle]:
    """Clean articles from Markdown: `# title`, a byline (institute, then authors, separated by
    spaces), then `##`+ headings, numbered sub-headings and paragraphs separated by blank
    lines."""
    articles: list[CleanArticle] = []
    current: dict | None = None
    for block in split_blocks(text):
        t = block.text.text
        if block.level == 1:
            if current is not None:
                articles.append(_article(current))
            current = {"title": t, "byline": None, "units": []}
        elif current is None:
            raise ValueError(f"line {block.line}: text before the first `# title`")
        elif current["byline"] is None and not block.level:
            current["byline"] = t.split()
        elif block.level:
            current["units"].append(CleanUnit("heading", t, block.level))
        elif is_subheading_text(t):
            current["units"].append(CleanUnit("subheading", t))
        else:
            current["units"].append(CleanUnit("body", t))
    if current is not None:
        articles.append(_article(current))
    return articles


def _article(d: dict) -> CleanArticle:
    institute, *authors = d["byline"]
    return CleanArticle(d["title"], institute, tuple(authors), tuple(d["units"]))


def articles_from_corpus(corpus: Corpus) -> list[CleanArticle]:
    """The repaired articles of the project's corpus, without their pull quotes (which are
    damage of their own, already repaired) and without page furniture."""
    out = []
    for article in corpus.articles:
        units = []
        for p in corpus.paragraphs:
            if p.article_id != article.id or p.role in ("title", "byline", "pull_quote"):
                continue
            if p.role in ("lede", "body"):
                units.append(CleanUnit("body", p.text))
            elif p.role == "heading":
                units.append(CleanUnit("heading", p.text, len(p.section_path) + 1))
            elif p.role == "subheading":
                units.append(CleanUnit("subheading", p.text))
        out.append(CleanArticle(article.title, article.institute, article.authors, tuple(units)))
    return out


@dataclass(eq=False)
class _Blk:
    """A block being printed; compared by identity, so damages can point at it."""

    role: str  # title, byline, heading, subheading, body, furniture
    text: str
    level: int = 0
    reserved: bool = False


@dataclass
class _Doc:
    blks: list[_Blk]
    rng: random.Random
    marks: list[tuple[str, tuple[_Blk, ...], int]] = field(default_factory=list)

    def index(self, blk: _Blk) -> int:
        return next(i for i, b in enumerate(self.blks) if b is blk)


def _cut_points(text: str, min_a: int = 20, min_b: int = 6, visible: bool = False) -> list[int]:
    """Positions inside a sentence where a paragraph can be cut: the first part stops
    mid-sentence (no stop, colon or semicolon at its end) and reads as running text. With
    `visible`, only those where the second part visibly begins inside a sentence
    (`starts_mid_sentence`: a clause or closing mark, a bound particle, a tail of at most four
    characters before a stop)."""
    points = []
    for k in range(min_a, len(text) - min_b + 1):
        a, b = text[:k], text[k:]
        if a[-1] in CLOSERS or a[-1].isspace() or b[0].isspace() or is_terminated(a):
            continue
        if not is_sentence_like(a) or is_subheading_text(b) or is_byline_text(b):
            continue
        if visible and not starts_mid_sentence(b):
            continue
        points.append(k)
    return points


def _move(doc: _Doc, visible: bool = True) -> None:
    """Print a section's head, cut inside a sentence, where another section or article ends.

    The cut is where the rest visibly begins mid-sentence unless `visible` is false (then at
    any character: nothing in the text then says where the rest went, see bench_detectors)."""
    rng, blks = doc.rng, doc.blks
    candidates = []
    for q, blk in enumerate(blks):
        if blk.role != "body" or blk.reserved:
            continue
        h = q - 1
        while h >= 0 and blks[h].role not in (*HEADING_ROLES, "title", "byline"):
            h -= 1
        if h < 0 or blks[h].role not in HEADING_ROLES:
            continue
        # Not a section another move printed into or out of (its ends are the evidence).
        if any(b.reserved for b in blks[max(h - 1, 0) : q + 2]):
            continue
        if _cut_points(blk.text, min_b=8, visible=visible):
            candidates.append((h, q))
    if not candidates:
        return
    h, q = rng.choice(candidates)
    text = blks[q].text
    k = rng.choice(_cut_points(text, min_b=8, visible=visible))
    q_a, q_b = _Blk("body", text[:k], reserved=True), _Blk("body", text[k:], reserved=True)
    fragment = [*blks[h:q], q_a]
    for b in fragment:
        b.reserved = True
    rest = blks[:h] + [q_b] + blks[q + 1 :]
    if h > 0:
        rest[h - 1].reserved = True
    landings = [
        t
        for t in range(len(rest) + 1)
        if (t == len(rest) or rest[t].role in (*HEADING_ROLES, "title"))
        and t > 0
        and rest[t - 1].role not in ("title", "byline")
        and not rest[t - 1].reserved
        and not (t < len(rest) and rest[t].reserved)
    ]
    if not landings:
        return
    t = rng.choice(landings)
    if t < len(rest):
        rest[t].reserved = True
    doc.blks = rest[:t] + fragment + rest[t:]
    doc.marks.append(("reading_order", (q_a, q_b), -1))
    doc.marks.append(("page_break_join", (q_a, q_b), -1))


def _pull_quote(doc: _Doc) -> None:
    """Print a restatement of a sentence of a paragraph beside it (or before its heading)."""
    rng, blks = doc.rng, doc.blks
    candidates = []
    for i, blk in enumerate(blks):
        if blk.role != "body" or blk.reserved:
            continue
        spans = split_sentences(blk.text)
        if len(spans) < 2:
            continue
        sentences = [blk.text[s:e] for s, e in spans]
        good = [s for s in sentences if 12 <= len(s) <= 90 and is_terminated(s)]
        if good:
            candidates.append((i, good))
    rng.shuffle(candidates)
    for i, sentences in candidates:
        sentence = rng.choice(sentences)
        quote = _restate(sentence, rng)
        places = [i, i + 1]
        if i > 0 and blks[i - 1].role in HEADING_ROLES:
            places.append(i - 1)
        at = rng.choice(places)
        before = blks[at - 1] if at > 0 else None
        after = blks[at] if at < len(blks) else None
        if any(b is not None and b.reserved for b in (before, after)) or before is None:
            continue
        blk = _Blk("body", quote, reserved=True)
        blks[i].reserved = True
        blks.insert(at, blk)
        doc.marks.append(("pull_quote", (blk,), -1))
        return


def _restate(sentence: str, rng: random.Random) -> str:
    """The sentence as a pull quote: whole, without its first clause, or without a middle one."""
    clauses = sentence.split("，")
    form = rng.randrange(3)
    if form == 1 and len(clauses) > 1 and len("，".join(clauses[1:])) >= 12:
        return "，".join(clauses[1:])
    if form == 2 and len(clauses) > 2:
        k = rng.randrange(1, len(clauses) - 1)
        shorter = "，".join(clauses[:k] + clauses[k + 1 :])
        if len(shorter) >= 12:
            return shorter
    return sentence


def _split(doc: _Doc) -> None:
    """Split a paragraph inside a sentence, sometimes with page furniture between the halves."""
    rng, blks = doc.rng, doc.blks
    candidates = [
        i
        for i, b in enumerate(blks)
        if b.role == "body" and not b.reserved and len(b.text) >= 40 and _cut_points(b.text)
    ]
    if not candidates:
        return
    i = rng.choice(candidates)
    text = blks[i].text
    k = rng.choice(_cut_points(text))
    a, b = _Blk("body", text[:k], reserved=True), _Blk("body", text[k:], reserved=True)
    middle = []
    if rng.random() < 0.4:
        form = rng.choice(_FURNITURE_FORMS)
        line = form.format(
            n=rng.randrange(1, 40),
            y=rng.randrange(2018, 2024),
            m=rng.randrange(1, 13),
            d=rng.randrange(1, 29),
        )
        furniture = _Blk("furniture", line, reserved=True)
        middle = [furniture]
        doc.marks.append(("page_furniture", (furniture,), -1))
    blks[i : i + 1] = [a, *middle, b]
    doc.marks.append(("page_break_join", (a, b), -1))


def _double(doc: _Doc, blk: _Blk) -> int | None:
    """Print one Han character of `blk` twice; return the offset of the first of the two."""
    text = blk.text
    whole = "".join(b.text for b in doc.blks)
    positions = [
        i
        for i in range(1, len(text) - 1)
        if is_han(text[i])
        and text[i] not in REDUPLICATING
        and text[i - 1] != text[i] != text[i + 1]
        and text[i] * 2 not in whole
    ]
    if not positions:
        return None
    i = doc.rng.choice(positions)
    blk.text = text[: i + 1] + text[i] + text[i + 1 :]
    return i


def _half_width(doc: _Doc, blk: _Blk) -> list[int]:
    """Print one to four full-width marks between Han characters half-width."""
    text = blk.text
    positions = [
        i
        for i in range(1, len(text) - 1)
        if text[i] in _HALF_MARKS and is_han(text[i - 1]) and is_han(text[i + 1])
    ]
    if not positions:
        return []
    chosen = sorted(doc.rng.sample(positions, min(len(positions), doc.rng.randint(1, 4))))
    chars = list(text)
    for i in chosen:
        chars[i] = FULL_TO_HALF[chars[i]]
    blk.text = "".join(chars)
    return chosen


def _render(blk: _Blk) -> str:
    if blk.role == "title":
        return f"# {blk.text}"
    if blk.role == "heading":
        return f"{'#' * blk.level} {blk.text}"
    return blk.text


def damage_document(
    articles: Sequence[CleanArticle],
    seed: int | str,
    name: str,
    ids: Sequence[str] = (),
    visible_moves: bool = True,
    moves: int | None = None,
) -> DamagedDocument:
    """Print `articles` as one damaged page extraction named `name`, seeded by `seed`.

    Article ids are `ids` when given, else `<name stem>_1`, `<name stem>_2`, ...
    `moves` displaced fragments (default: one in three documents of four, as the source has
    one).
    """
    rng = random.Random(f"damage:{seed}")
    blks: list[_Blk] = []
    clean: list[str] = []
    for art in articles:
        blks.append(_Blk("title", art.title))
        blks.append(_Blk("byline", " ".join([art.institute, *art.authors])))
        for u in art.units:
            blks.append(_Blk(u.role, u.text, u.level))
            clean.append(u.text)
    doc = _Doc(blks, rng)
    for _ in range((rng.random() < 0.75) if moves is None else moves):
        _move(doc, visible_moves)
    for _ in range(rng.randint(1, 2)):
        _pull_quote(doc)
    for _ in range(rng.randint(2, 4)):
        _split(doc)
    char_marks: list[tuple[str, _Blk, int]] = []
    body = [b for b in doc.blks if b.role == "body"]
    for blk in rng.sample(body, min(len(body), rng.randint(1, 2))):
        i = _double(doc, blk)
        if i is not None:
            char_marks.append(("doubled_char", blk, i))
    for blk in rng.sample(body, min(len(body), rng.randint(2, 3))):
        # Marks after a doubled character: the doubling shifted nothing before it.
        char_marks.extend(("punctuation", blk, i) for i in _half_width(doc, blk))
    text = "\n\n".join(_render(b) for b in doc.blks) + "\n"
    raw = split_blocks(text)
    if len(raw) != len(doc.blks):  # pragma: no cover - a generator bug, not a test outcome
        raise AssertionError(f"{name}: {len(raw)} blocks printed for {len(doc.blks)}")
    number = {id(b): k + 1 for k, b in enumerate(doc.blks)}
    start = {id(b): raw[k].start for k, b in enumerate(doc.blks)}
    damages = [Damage(kind, tuple(number[id(b)] for b in bs), off) for kind, bs, off in doc.marks]
    damages.extend(Damage(kind, (number[id(b)],), start[id(b)] + i) for kind, b, i in char_marks)
    data = text.encode("utf-8")
    stem = name.rsplit(".", 1)[0]
    origin = SourceOrigin(
        file=name,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        encoding="utf-8",
        licence="generated for the damage benchmark",
        articles=tuple(
            ArticleOrigin(ids[k] if ids else f"{stem}_{k + 1}", a.title, a.institute, a.authors)
            for k, a in enumerate(articles)
        ),
    )
    return DamagedDocument(name, text, origin, tuple(damages), tuple(clean))


def clean_document(articles: Sequence[CleanArticle], name: str) -> DamagedDocument:
    """`articles` printed without any damage: every proposal on it is a false positive."""
    blks = [
        blk
        for art in articles
        for blk in (
            _Blk("title", art.title),
            _Blk("byline", " ".join([art.institute, *art.authors])),
            *(_Blk(u.role, u.text, u.level) for u in art.units),
        )
    ]
    text = "\n\n".join(_render(b) for b in blks) + "\n"
    data = text.encode("utf-8")
    stem = name.rsplit(".", 1)[0]
    origin = SourceOrigin(
        name,
        hashlib.sha256(data).hexdigest(),
        len(data),
        "utf-8",
        "generated for the damage benchmark",
        tuple(
            ArticleOrigin(f"{stem}_{k + 1}", a.title, a.institute, a.authors)
            for k, a in enumerate(articles)
        ),
    )
    return DamagedDocument(name, text, origin, (), tuple(u.text for a in articles for u in a.units))


def generate(
    pool: Sequence[CleanArticle],
    n: int,
    seed: int = 0,
    visible_moves: bool = True,
    moves: int | None = None,
) -> list[DamagedDocument]:
    """`n` damaged documents of one or two articles drawn from `pool`, seeded by `seed`
    (`visible_moves`, `moves`: see `damage_document`)."""
    docs = []
    for k in range(n):
        rng = random.Random(f"compose:{seed}:{k}")
        count = 1 if len(pool) < 2 or rng.random() < 0.4 else 2
        chosen = rng.sample(list(pool), count)
        name = f"gen{seed}_{k:03d}.txt"
        docs.append(
            damage_document(chosen, f"{seed}:{k}", name, visible_moves=visible_moves, moves=moves)
        )
    return docs


@dataclass
class Tally:
    """True positives, false positives and misses of one kind of damage."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def recall(self) -> float:
        """Share of the damage done that was proposed (1.0 when none was done)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def precision(self) -> float:
        """Share of the proposals that name damage done (1.0 when nothing was proposed)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0


@dataclass
class Score:
    """Per-kind tallies over documents, and how many came out exactly as the clean text."""

    tallies: dict[str, Tally]
    documents: int = 0
    restored: int = 0
    misses: list[str] = field(default_factory=list)


def _found(result, kind: str) -> set:
    """What the pipeline proposed for `kind`, in the terms `Damage` records it."""
    if kind in ("punctuation", "doubled_char"):
        return {
            int(row.raw_spans.split("-", 1)[0]) for row in result.audit_rows if row.kind == kind
        }
    out = set()
    for p, _ in result.proposals:
        if p.kind != kind:
            continue
        if kind == "reading_order":
            out.add((p.blocks[-2], p.blocks[-1]))
        elif kind == "page_break_join":
            out.add(p.blocks)
        else:
            out.add(p.blocks[0])
    return out


def _expected(doc: DamagedDocument, kind: str) -> set:
    out = set()
    for d in doc.damages:
        if d.kind != kind:
            continue
        if kind in ("punctuation", "doubled_char"):
            out.add(d.offset)
        elif kind in ("reading_order", "page_break_join"):
            out.add(d.blocks)
        else:
            out.add(d.blocks[0])
    return out


def score(docs: Iterable[DamagedDocument]) -> Score:
    """Run the corpus pipeline on each document, accepting every proposal, and tally per kind.

    A document is *restored* when its repaired headings and paragraphs (pull quotes and page
    furniture left out) are exactly the clean ones.
    """
    from .pipeline import accept_all, process_source

    result_score = Score({kind: Tally() for kind in DAMAGE_KINDS})
    for doc in docs:
        result = process_source(doc.text, doc.origin, [], accept_all, doc.name)
        result_score.documents += 1
        for kind in DAMAGE_KINDS:
            found, expected = _found(result, kind), _expected(doc, kind)
            t = result_score.tallies[kind]
            t.tp += len(found & expected)
            t.fp += len(found - expected)
            t.fn += len(expected - found)
            for miss in sorted(expected - found, key=str):
                result_score.misses.append(f"{doc.name}: missed {kind} {miss}")
            for extra in sorted(found - expected, key=str):
                result_score.misses.append(f"{doc.name}: wrong {kind} {extra}")
        repaired = tuple(
            row[5]
            for row in result.paragraph_rows
            if row[3] in ("heading", "subheading", "body", "lede")
        )
        result_score.restored += repaired == doc.clean
    return result_score
