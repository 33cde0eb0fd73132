import re

import pytest

from hue_nlu.fuzzy import FuzzyLookup, within_one_edit

TABLES = {"ward": ["Phường Vỹ Dạ", "Thủy Xuân", "Phường Kim Long", "An Cựu", "Hương Nguyễn"],
          "facility": ["bệnh viện trung ương", "trạm y tế Vỹ Dạ"]}


def words(text):
    return [(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", text)]


@pytest.mark.parametrize("a, b, close", [
    ("thuy xuan", "thuy xuan", True), ("thuy xuaan", "thuy xuan", True), ("thy xuan", "thuy xuan", True),
    ("thuy xuon", "thuy xuan", True), ("htuy xuan", "thuy xuan", True), ("thuy xaun", "thuy xuan", True),
    ("thuy xu", "thuy xuan", False), ("thuyy xuaan", "thuy xuan", False),
])
def test_within_one_edit(a, b, close):
    assert within_one_edit(a, b) is close


@pytest.mark.parametrize("text, found", [
    ("nha tui o thuy xuaan", []),       # too short for a fuzzy match: one edit away from too much
    ("duong Nguyen Hue", []),          # no typo on the first letter: Dương is not Hương
    ("benh vein trung uong", [("facility", "bệnh viện trung ương", "benh vein trung uong")]),
    ("phuong vy dja", [("ward", "Phường Vỹ Dạ", "phuong vy dja")]),
    ("phuong kim lonng nghe", [("ward", "Phường Kim Long", "phuong kim lonng")]),
    ("mùa xuân", []),                  # an ordinary phrase, too far from any entry
    ("an cuu", []),                     # short entries are RegexEntityExtractor's (exact) job
])
def test_typos_are_found_with_the_entry_as_written(text, found):
    result = FuzzyLookup(TABLES).find(words(text), [])
    assert [(e["entity"], e["value"], text[e["start"]:e["end"]]) for e in result] == found


def test_spans_already_taken_are_left_alone():
    text = "benh vien trung uong"
    assert FuzzyLookup(TABLES).find(words(text), [(0, 9)]) == []
