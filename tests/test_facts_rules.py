"""The extraction-rule engine on small made-up sentences, and the schemas' failures."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from analysis.facts.glossary import Glossary
from analysis.facts.mentions import extract
from analysis.facts.rules import RuleError, apply_rules, load_rules, split_items
from analysis.facts.schemas import SchemaValidationError, frame, validate
from analysis.facts.source import FactSentence
from analysis.facts.tables import BY_NAME

GLOSSARY = Glossary(
    Path("glossary.csv"),
    {"退火设备": "annealing equipment", "刻蚀设备": "etching equipment", "电子信息": "Electronics"},
    {},
)


def sentence(text: str, section: str = "设备", sid: str = "a2-p001-s01") -> FactSentence:
    return FactSentence(sid, sid[:7], "a2", "文章", "所", ("作者",), (section,), "body", text)


def rules_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "extraction_rules.toml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


RESPECTIVELY = """
    [[rule]]
    id = "shares"
    table = "amoled_equipment_concentration"
    section = "设备"
    sentence = '分别为'
    pattern = '(?P<equipment>[^，]+?)等(?P<suffix>设备)的(?P<n>前.家)PATTERN_TAIL'
    lists = { equipment = "enumeration", shares = "enumeration" }
    [rule.columns]
    equipment_zh = "{equipment}{suffix}"
    equipment_en = "en:{equipment}{suffix}"
    top_firms = "int:{n}"
    share_pct = "pct:{shares}"
    share_qualifier = "qualifier:{shares}"
    concentration_zh = "{basis}"
""".replace("PATTERN_TAIL", "(?P<basis>[^，]+?)分别为(?P<shares>[0-9.%、和]+)")


def run_rules(tmp_path: Path, body: str, *sentences: FactSentence):
    rules = load_rules(rules_file(tmp_path, body))
    mentions = {s.id: extract(s.text, s.id) for s in sentences}
    return apply_rules(rules, sentences, mentions, GLOSSARY)


def test_a_respectively_list_gives_one_row_per_item(tmp_path):
    s = sentence("退火、刻蚀等设备的前两家市占率总和分别为85%和75%。")
    result = run_rules(tmp_path, RESPECTIVELY, s)
    rows = result.rows["amoled_equipment_concentration"]
    assert [(r.values["equipment_zh"], r.values["share_pct"]) for r in rows] == [
        ("退火设备", 85.0),
        ("刻蚀设备", 75.0),
    ]
    assert {r.values["top_firms"] for r in rows} == {2}
    used = set(result.usage)
    assert {m.id for m in extract(s.text, s.id) if m.kind == "percent"} <= used


def test_lists_that_do_not_pair_up_are_an_error(tmp_path):
    s = sentence("退火、刻蚀等设备的前两家市占率总和分别为85%、75%和90%。")
    with pytest.raises(RuleError, match="do not pair up"):
        run_rules(tmp_path, RESPECTIVELY, s)


def test_a_sentence_that_no_longer_matches_names_rule_section_and_text(tmp_path):
    s = sentence("退火、刻蚀等设备的市场份额较高。")
    with pytest.raises(RuleError) as info:
        run_rules(tmp_path, RESPECTIVELY, s)
    message = str(info.value)
    assert "rule 'shares'" in message and "section “设备”" in message
    assert "退火、刻蚀等设备的市场份额较高" in message


def test_a_rule_outside_its_section_finds_nothing(tmp_path):
    s = sentence("退火、刻蚀等设备的前两家市占率总和分别为85%和75%。", section="别处")
    with pytest.raises(RuleError, match="no body sentence lies in"):
        run_rules(tmp_path, RESPECTIVELY, s)


def test_an_ambiguous_selector_is_an_error(tmp_path):
    a = sentence("退火、刻蚀等设备的前两家市占率总和分别为85%和75%。")
    b = sentence("退火、刻蚀等设备的前两家市占率总和分别为80%和70%。", sid="a2-p001-s02")
    with pytest.raises(RuleError, match="matches several sentences"):
        run_rules(tmp_path, RESPECTIVELY, a, b)


def test_a_missing_glossary_entry_is_an_error(tmp_path):
    s = sentence("沉积、刻蚀等设备的前两家市占率总和分别为85%和75%。")
    with pytest.raises(Exception, match="no English label for “沉积设备”"):
        run_rules(tmp_path, RESPECTIVELY, s)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[rule]]\nid = "x"\ntable = "nope"\nsentence = "a"\ncolumns = {}\n', "unknown table"),
        (
            '[[rule]]\nid = "x"\ntable = "display_companies"\nsentence = "a"\n'
            'columns = { colour = "{a}" }\n',
            "has no columns",
        ),
        (
            '[[rule]]\nid = "x"\ntable = "display_companies"\nsentence = "(?P<a>a)"\n'
            'columns = { company_zh = "{b}" }\n',
            "does not define",
        ),
        (
            '[[rule]]\nid = "x"\ntable = "display_companies"\nsentence = "("\ncolumns = {}\n',
            "invalid",
        ),
        ('[[rule]]\nid = "x"\ntable = "display_companies"\ncolumns = {}\n', "'sentence'"),
        (
            '[[rule]]\nid = "x"\ntable = "display_companies"\nsentence = "a"\ncolumns = {}\n'
            "colour = 1\n",
            "unknown keys",
        ),
    ],
)
def test_malformed_rules_are_refused(tmp_path, body, message):
    with pytest.raises(RuleError, match=message):
        load_rules(rules_file(tmp_path, body))


@pytest.mark.parametrize(
    ("text", "items"),
    [
        ("山东和上海", ["山东", "上海"]),
        ("安徽、北京、内蒙古和陕西", ["安徽", "北京", "内蒙古", "陕西"]),
        ("京东方、天马、和辉光电", ["京东方", "天马", "和辉光电"]),  # a name starting with 和
        ("示范区、企业发展和创新、公共服务", ["示范区", "企业发展和创新", "公共服务"]),
        ("85%、75%和90%", ["85%", "75%", "90%"]),
    ],
)
def test_split_items(text, items):
    parts = split_items(text, 10, "enumeration")
    assert [t for t, _ in parts] == items
    assert all(text[s - 10 : s - 10 + len(t)] == t for t, s in parts)  # spans are exact


def test_the_source_rules_load():
    rules = load_rules()
    assert len(rules) > 40 and len({r.id for r in rules}) == len(rules)
    for rule in rules:
        # values come from the text: no rule pattern contains a figure of the source
        for figure in ("44", "93.5", "85%", "1.2万亿", "4000", "210"):
            assert figure not in rule.pattern.pattern, (rule.id, figure)


# --- schemas ---------------------------------------------------------------------------------

GOOD = {
    "province_zh": "江苏",
    "adcode": 320000,
    "province_en": "Jiangsu",
    "clusters": 8,
    "sentence_id": "a1-p016-s05",
    "quote": "江苏8个",
}


def test_a_good_row_passes_its_schema():
    df = validate(
        "national_clusters_by_province", frame(BY_NAME["national_clusters_by_province"], [GOOD])
    )
    assert str(df["clusters"].dtype) == "Int64" and str(df["province_zh"].dtype) == "string"


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"clusters": -1}, "clusters"),
        ({"province_zh": None}, "province_zh"),
        ({"adcode": 12}, "adcode"),
        ({"sentence_id": "p16"}, "sentence_id"),
        ({"quote": ""}, "quote"),
    ],
)
def test_schema_failures_name_the_column(change, fragment):
    table = BY_NAME["national_clusters_by_province"]
    with pytest.raises(SchemaValidationError, match=fragment):
        validate(table.name, frame(table, [{**GOOD, **change}]))


def test_a_duplicate_key_fails_the_schema():
    table = BY_NAME["national_clusters_by_province"]
    with pytest.raises(SchemaValidationError, match="national_clusters_by_province"):
        validate(table.name, frame(table, [GOOD, GOOD]))


@pytest.mark.parametrize(
    ("column", "value"), [("date", "2019-13"), ("date", "2019-8"), ("level", "city")]
)
def test_policy_event_dates_and_levels_are_checked(column, value):
    table = BY_NAME["policy_events"]
    row = {
        "date": "2019-08",
        "level": "national",
        "body": "工业和信息化部",
        "body_en": "MIIT",
        "event_zh": "初赛",
        "statement_zh": "启动",
        "sentence_id": "a1-p016-s01",
        "quote": "启动",
    }
    validate(table.name, frame(table, [row]))
    with pytest.raises(SchemaValidationError, match=column):
        validate(table.name, frame(table, [{**row, column: value}]))
