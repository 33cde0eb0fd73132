"""Vietnamese syllable validity, and the repair of recognised text whose syllables were glued together."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from common.syllables import is_syllable, keeps_as_is, repair, split_syllables
from common.text import fold

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("token", [
    "người", "đường", "xuống", "giãy", "giụa", "phóng", "uế", "ngành", "nghỉ", "ghế", "kem", "kỹ", "quốc", "quyết",
    "quân", "giếng", "gì", "già", "khuỷu", "rượu", "thuở", "hoàng", "huynh", "xoong", "ấy", "ạ", "ừ", "ừm", "dìa",
    "khuya", "ngoẹo", "khuấy", "ếch", "ạch", "y", "Huế", "PHƯỜNG",
])
def test_valid_syllables(token):
    assert is_syllable(token)


@pytest.mark.parametrize(("token", "why"), [
    ("nghành", "ngh only before i, e, ê"),
    ("ngỉ", "ng never before i"),
    ("gế", "g never before ê: ghế"),
    ("ghà", "gh only before i, e, ê"),
    ("cem", "c never before e: kem"),
    ("ka", "k only before i, y, e, ê"),
    ("quu", "q only with a rhyme after its u"),
    ("ă", "ă needs a final consonant"),
    ("êch", "a stop coda takes only sắc or nặng"),
    ("mât", "a stop coda takes only sắc or nặng"),
    ("ràt", "a stop coda takes only sắc or nặng"),
    ("thếế", "two tone marks"),
    ("xuốngãyụ", "three tone marks, glued"),
    ("phóngế", "no rhyme 'ongê'"),
    ("bx", "no vowel"),
    ("zô", "z is no Vietnamese onset"),
    ("co2", "not letters"),
])
def test_invalid_syllables(token, why):
    assert not is_syllable(token), why


@pytest.mark.parametrize("token", ["nguoi", "duong", "xuong", "quyet", "giay", "ruou", "nghi", "khuyu", "Hue"])
def test_text_without_diacritics_is_valid_when_its_letters_can_form_a_syllable(token):
    assert is_syllable(token)


@pytest.mark.parametrize("token", ["nghanh", "ngi", "ghe" + "a", "xuongayu", "cem"])
def test_text_without_diacritics_that_no_marks_can_make_a_syllable(token):
    assert not is_syllable(token)


def test_every_word_the_assistant_says_is_a_syllable_typed_or_folded():
    """domain.yml's Vietnamese, with and without its diacritics: no false alarms on real text."""
    text = (ROOT / "domain.yml").read_text(encoding="utf-8").lower().replace("\\n", " ")
    marked = {w for w in re.findall(r"\w+", text) if not w.isascii() and not any(c.isdigit() for c in w)}
    assert len(marked) > 200
    assert sorted(w for w in marked if not is_syllable(w)) == []
    assert sorted(w for w in marked if not is_syllable(fold(w))) == []


@pytest.mark.parametrize("token", ["cccd", "CCCD", "bhyt", "cmnd", "ok", "zalo", "telegram", "2026", "0905123456",
                                   "15/12", "sđt", "atm", "karaoke", "안녕하세요"])
def test_numbers_abbreviations_and_loanwords_are_kept_as_they_are(token):
    assert keeps_as_is(token)
    assert repair(token).text == token and not repair(token).changed


@pytest.mark.parametrize(("glued", "parts"), [
    ("xuốngãyụ", ["xuống", "ãy", "ụ"]),
    ("phóngế", ["phóng", "ế"]),
    ("mìnhom", ["mình", "om"]),  # the longest first syllable wins between equally short splits
    ("thếế", ["thế", "ế"]),
])
def test_glued_syllables_are_split_into_the_fewest_valid_ones(glued, parts):
    assert split_syllables(glued) == parts


def test_what_cannot_be_split_is_dropped_and_lowers_trust():
    fixed = repair("dạ tui thấy ngườiăxq ở đầu kiệt")
    assert fixed.text == "dạ tui thấy ở đầu kiệt"
    assert (fixed.tokens, fixed.split, fixed.dropped) == (7, 0, 1)
    assert fixed.trust() == pytest.approx(6 / 7)
    assert repair("thấy ngườiăxq, ở đây").text == "thấy, ở đây"


def test_repairing_recognised_text():
    fixed = repair("có người xuốngãyụ, phóngế ở đường Lê Lợi, CCCD 0905 123 456 qua Zalo")
    assert fixed.text == "có người xuống ãy ụ, phóng ế ở đường Lê Lợi, CCCD 0905 123 456 qua Zalo"
    assert (fixed.split, fixed.dropped) == (2, 0)
    assert 0 < fixed.trust() < 1


def test_valid_text_is_left_alone():
    said = "Dạ, tui muốn phản ánh rác ở kiệt 12 đường Lê Lợi nghe cháu."
    fixed = repair(said)
    assert fixed.text == said and not fixed.changed and fixed.trust() == 1.0
    assert repair("").text == "" and repair("").trust() == 1.0
