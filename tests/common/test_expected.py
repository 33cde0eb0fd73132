"""Picking the offered choice an answer sounds like (common.expected), on texts viet-asr really produced."""
from __future__ import annotations

import pytest

from common.expected import distance, pick
from common.text import words

YES_NO = ["Có", "Không"]
WARDS = ["Vỹ Dạ", "Phú Hội", "Thuận Hóa"]
PROBLEMS = ["Phóng uế", "Rác thải", "Cây đổ"]
TIMES = ["8 giờ", "9 giờ", "10 giờ 30"]


@pytest.mark.parametrize(("heard", "choices", "index"), [
    ("cò", YES_NO, 0),  # a wrong tone
    ("à có", YES_NO, 0),  # a hesitation before it
    ("cùng ruồi", YES_NO, 0),  # 'đúng rồi' in the Huế voice
    ("ví à", WARDS, 0),  # 'Vỹ Dạ' with its second initial swallowed
    ("phú hồ đi", WARDS, 1),
    ("phóng ế", PROBLEMS, 0),  # 'phóngế' as common.syllables splits it
    ("phóngế", PROBLEMS, 0),  # or glued: letters compared without spaces
    ("rác", PROBLEMS, 1),  # part of the choice
    ("chín ơ", TIMES, 1),  # '9 giờ' with digits said in words
    ("mười giờ ba mươi", TIMES, 2),
])
def test_a_misheard_answer_picks_the_choice_it_sounds_like(heard, choices, index):
    assert pick([heard], choices) == index


@pytest.mark.parametrize(("heard", "choices"), [
    ("tui muốn gặp cán bộ", YES_NO),  # a new request
    ("tui muốn gặp cán bộ", WARDS),
    ("đèn đường trước nhà tôi bị hỏng", YES_NO),
    ("đó", YES_NO),  # too far from 'có' to guess
    ("à", YES_NO),
    ("rồi quá", WARDS),  # as close to two choices
    ("gặp cán bộ", ["Gặp bác sĩ", "Không"]),  # asked at any step: not forced into a look-alike
    ("", YES_NO),
])
def test_what_is_no_clear_answer_picks_nothing(heard, choices):
    assert pick([heard], choices) is None


def test_an_alternative_reading_can_pick_when_the_best_does_not():
    assert pick(["rồi quá"], WARDS) is None
    assert pick(["rồi quá", "thuận hoá"], WARDS) == 2


def test_choices_said_by_position_and_yes_no_words():
    assert pick(["số hai"], WARDS) == 1
    assert pick(["vâng"], YES_NO) == 0
    assert pick(["thôi"], ["Đồng ý", "Không đồng ý"]) == 1  # 'thôi' is a no when a no button is there


def test_distance_weighs_tones_onsets_and_rhymes():
    same, tone, onset, unrelated = (distance(words(a), words("có")) for a in ("có", "cò", "đó", "mười"))
    assert same == 0 < tone < onset < unrelated
    assert distance(words("ví à"), words("vỹ dạ")) < distance(words("rồi quá"), words("vỹ dạ"))
