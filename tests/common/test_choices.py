"""Matching a short spoken or typed answer to the buttons offered."""
from __future__ import annotations

import pytest

from common.choices import match_choice

YES_NO = ["Có", "Không"]
PROBLEMS = ["Rác thải", "Đèn đường hỏng", "Cây đổ", "Gặp cán bộ"]
# The bot's own confirmation buttons (domain.yml) and booking days (common.wording.short_day).
REPORT_SUMMARY = ["Gửi đi", "Sửa lại", "Thôi, không gửi"]
BOOKING_SUMMARY = ["Đặt lịch", "Sửa lại", "Thôi"]
DAYS = ["Thứ Hai 15/12", "Thứ Ba 16/12", "Thứ Tư 17/12"]


@pytest.mark.parametrize("answer", [
    "Có", "CÓ", "co", "có ạ", "dạ có", "dạ, có", "Dạ có ạ!", "ừ", "ừm", "ờ", "vâng", "dạ vâng ạ", "đúng", "đúng rồi",
    "được", "ok", "phải", "có nghe cháu",
    "dạ",  # alone, 'dạ' is a yes
])
def test_yes(answer):
    assert match_choice(answer, YES_NO) == 0


@pytest.mark.parametrize("answer", [
    "Không", "khong", "không ạ", "dạ không", "khôn", "hông", "ko", "không phải", "sai", "chưa", "thôi khỏi",
    "không, cảm ơn cháu", "không có",
])
def test_no(answer):
    assert match_choice(answer, YES_NO) == 1


@pytest.mark.parametrize(("answer", "index"), [
    # A bare "không" or "thôi" picks nothing: the NLU reads them (deny offers corrections; stop keeps nothing).
    ("dạ", 0), ("vâng", 0), ("gửi", 0), ("Gửi đi", 0), ("sửa lại", 1), ("không", None), ("thôi", None),
    ("thoi khong gui", 2),
])
def test_the_report_summary_buttons(answer, index):
    assert match_choice(answer, REPORT_SUMMARY) == index


@pytest.mark.parametrize(("answer", "index"), [
    ("hai", 1), ("số 2", 1), ("so hai", 1), ("thứ 2", 1), ("cái thứ ba", 2), ("1", 0), ("một", 0), ("thứ nhất", 0),
    ("nút số 4", 3), ("dạ số hai ạ", 1),
])
def test_a_number_picks_by_position(answer, index):
    assert match_choice(answer, PROBLEMS) == index


def test_a_number_beyond_the_choices_picks_nothing():
    assert match_choice("số năm", PROBLEMS) is None


def test_a_day_named_like_a_position_is_the_day():
    assert match_choice("thứ hai", DAYS) == 0
    assert match_choice("thu ba", DAYS) == 1
    assert match_choice("số 2", DAYS) == 1


@pytest.mark.parametrize(("answer", "index"), [
    ("rác thải", 0), ("rac thai", 0), ("RÁC THẢI", 0), ("cho tui cái rác thải nghe", 0), ("dạ rác thải ạ", 0),
    ("đèn đường hỏng", 1), ("den duong hong roi", 1), ("cay do", 2), ("gặp cán bộ giúp tui", 3),
    ("cán bộ", 3),  # a part of a choice, long enough to be telling
])
def test_the_words_of_a_choice(answer, index):
    assert match_choice(answer, PROBLEMS) == index


@pytest.mark.parametrize(("answer", "index"), [
    ("rac thay", 0), ("rát thải", 0), ("đèn đườn hỏng", 1), ("đèn đường hõng", 1), ("den duon hon", 1),
    ("gặp cán bồ", 3),
])
def test_small_recognition_errors(answer, index):
    assert match_choice(answer, PROBLEMS) == index


@pytest.mark.parametrize("answer", ["rắc", "đèn", "dương hỏng xe"])
def test_more_errors_than_the_length_allows(answer):
    assert match_choice(answer, PROBLEMS) is None


@pytest.mark.parametrize(("answer", "choices"), [
    ("thời tiết hôm nay", YES_NO),
    ("thời tiết hôm nay", BOOKING_SUMMARY),  # 'thời' is not 'Thôi'
    ("tôi muốn hỏi giờ làm việc", PROBLEMS),
    ("tôi có việc muốn hỏi", YES_NO),  # a yes or no word in a sentence is not an answer
    ("có được không", YES_NO),
    ("không biết nữa", YES_NO),
    ("cô ơi", YES_NO),  # 'cô' is not 'có' when both have their tones
    ("có", PROBLEMS),
    ("ạ", YES_NO),
    ("bác ơi", YES_NO),
    ("", YES_NO),
    ("   ", YES_NO),
])
def test_an_unrelated_answer_picks_nothing(answer, choices):
    assert match_choice(answer, choices) is None


@pytest.mark.parametrize(("answer", "choices"), [
    ("rác thải với cây đổ", PROBLEMS),
    ("đường", ["Đèn đường hỏng", "Đường ngập nước"]),
    ("vâng", ["Có", "Đồng ý"]),
    ("có hay không", YES_NO),
    ("có", ["Có", "Có"]),
])
def test_an_ambiguous_answer_picks_nothing(answer, choices):
    assert match_choice(answer, choices) is None


def test_the_most_specific_of_nested_choices_wins():
    assert match_choice("tui muốn đặt lịch khám bệnh", ["Đặt lịch", "Đặt lịch khám bệnh"]) == 1
    assert match_choice("vâng", BOOKING_SUMMARY) == 0


def test_no_choices():
    assert match_choice("có", []) is None


@pytest.mark.parametrize(("answer", "index"), [("cái đầu", 0), ("cai dau tien", 0), ("đầu tiên ạ", 0),
                                               ("cái cuối", 3), ("cuối cùng", 3)])
def test_first_and_last(answer, index):
    assert match_choice(answer, ["7 giờ sáng", "7 giờ 20 sáng", "1 giờ 30 chiều", "1 giờ 50 chiều"]) == index


def test_a_request_is_not_taken_for_a_menu_button_that_shares_its_first_words():
    menu = ["Phản ánh sự việc", "Xem phản ánh đã gửi", "Đặt lịch khám bệnh", "Hủy lịch khám", "Gặp cán bộ"]
    assert match_choice("phản ánh rác", menu) is None
    assert match_choice("xem phan anh", menu) == 1


@pytest.mark.parametrize(("answer", "index"), [("1", 0), ("số 2", 1), ("3", 2), ("1 giờ 30", 2), ("1 giờ 50 chiều", 3),
                                               ("7 giờ 20", 1)])
def test_a_bare_number_is_a_position_even_where_times_start_with_it(answer, index):
    assert match_choice(answer, ["7 giờ sáng", "7 giờ 20 sáng", "1 giờ 30 chiều", "1 giờ 50 chiều"]) == index


def test_a_number_that_is_a_whole_choice_is_that_choice():
    assert match_choice("1", ["3", "2", "1"]) == 2


@pytest.mark.parametrize("answer", ["ko co anh", "k co anh", "hong co anh", "không có ảnh", "khong co anh a"])
def test_abbreviations_typed_are_written_out(answer):
    assert match_choice(answer, ["Không có ảnh"]) == 0
