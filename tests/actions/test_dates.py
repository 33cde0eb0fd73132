from datetime import date, time

import pytest

from actions.dates import When, parse_when

pytestmark = pytest.mark.clock  # also run at fixed instants (scripts/test)

SATURDAY = date(2026, 11, 28)
MONDAY = date(2026, 11, 30)
YEAR_END = date(2026, 12, 30)  # a Wednesday

NOTHING = When(None, None, None)


def day(d: date, part: str | None = None, at: time | None = None) -> When:
    return When(d, part, at)


def at(hour: int, minute: int = 0, part: str | None = None) -> When:
    return When(None, part, time(hour, minute))


@pytest.mark.parametrize("text, expected", [
    # relative days, with and without diacritics, Huế words
    ("hôm nay", day(SATURDAY)),
    ("hom nay", day(SATURDAY)),
    ("Bữa ni", day(SATURDAY)),
    ("bua ni", day(SATURDAY)),
    ("hôm ni", day(SATURDAY)),
    ("nay", day(SATURDAY)),
    ("chừ", day(SATURDAY)),
    ("bây giờ được không", day(SATURDAY)),
    ("bay chu", day(SATURDAY)),
    ("ngày mai", day(date(2026, 11, 29))),
    ("ngay mai", day(date(2026, 11, 29))),
    ("mai", day(date(2026, 11, 29))),
    ("mơi", day(date(2026, 11, 29))),
    ("moi", day(date(2026, 11, 29))),
    ("bữa mơi", day(date(2026, 11, 29))),
    ("bua moi", day(date(2026, 11, 29))),
    ("sáng mai", day(date(2026, 11, 29), "morning")),
    ("chiều mơi nghe", day(date(2026, 11, 29), "afternoon")),
    ("chieu moi", day(date(2026, 11, 29), "afternoon")),
    ("ngày kia", day(MONDAY)),
    ("ngày mốt", day(MONDAY)),
    ("ngay mot", day(MONDAY)),
    ("mốt", day(MONDAY)),
    ("bữa kia", day(MONDAY)),
    ("hôm qua", day(date(2026, 11, 27))),
    ("hom qua", day(date(2026, 11, 27))),
    # weekdays
    ("thứ hai", day(MONDAY)),
    ("thu 2", day(MONDAY)),
    ("T2", day(MONDAY)),
    ("thứ ba", day(date(2026, 12, 1))),
    ("thứ tư", day(date(2026, 12, 2))),
    ("thu 4", day(date(2026, 12, 2))),
    ("thứ năm", day(date(2026, 12, 3))),
    ("thứ 6", day(date(2026, 12, 4))),
    ("thu sau", day(date(2026, 12, 4))),
    ("thứ bảy", day(SATURDAY)),
    ("t7", day(SATURDAY)),
    ("chủ nhật", day(date(2026, 11, 29))),
    ("CN", day(date(2026, 11, 29))),
    ("thu hai tuan sau", day(MONDAY)),
    ("thứ năm tuần tới", day(date(2026, 12, 3))),
    ("thu nam tuan toi", day(date(2026, 12, 3))),
    ("chủ nhật tuần sau", day(date(2026, 12, 6))),
    ("thứ năm tuần ni", day(date(2026, 11, 26))),
    ("thu nam tuan nay", day(date(2026, 11, 26))),
    ("chieu thu nam", day(date(2026, 12, 3), "afternoon")),
    ("cho tui đặt lịch chiều thứ năm nghe", day(date(2026, 12, 3), "afternoon")),
    ("Sáng  Thứ Hai TUẦN TỚI lúc 8 rưỡi", day(MONDAY, "morning", time(8, 30))),
    ("bà muốn khám thứ ba", day(date(2026, 12, 1))),
    # calendar dates
    ("15/12", day(date(2026, 12, 15))),
    ("15-12", day(date(2026, 12, 15))),
    ("15 / 12", day(date(2026, 12, 15))),
    ("15/12/2026", day(date(2026, 12, 15))),
    ("1/2/27", day(date(2027, 2, 1))),
    ("ngày 5 tháng 12", day(date(2026, 12, 5))),
    ("ngay 5 thang 12", day(date(2026, 12, 5))),
    ("mùng 5 tháng 12", day(date(2026, 12, 5))),
    ("mùng năm tháng giêng", day(date(2027, 1, 5))),
    ("mung 10 thang chap", day(date(2026, 12, 10))),
    ("mồng 5 tháng 12", day(date(2026, 12, 5))),
    ("5 tháng 12", day(date(2026, 12, 5))),
    ("ngày 5 tháng 12 năm 2027", day(date(2027, 12, 5))),
    ("ngày 15", day(date(2026, 12, 15))),
    ("ngày15", day(date(2026, 12, 15))),
    ("ngày 28", day(SATURDAY)),
    ("ngày 31", day(date(2026, 12, 31))),
    ("mùng một", day(date(2026, 12, 1))),
    ("ngày một tháng một", day(date(2027, 1, 1))),
    ("mung mot thang mot", day(date(2027, 1, 1))),
    ("5/1", day(date(2027, 1, 5))),
    ("20/11", day(date(2027, 11, 20))),
    ("ngày mười lăm tháng mười hai", day(date(2026, 12, 15))),
    ("ngay muoi lam thang muoi hai", day(date(2026, 12, 15))),
    ("hai mươi lăm tháng mười hai", day(date(2026, 12, 25))),
    ("ngày hai mươi mốt", day(date(2026, 12, 21))),
    ("ngày ba mươi", day(SATURDAY.replace(day=30))),
    ("thứ năm 3/12", day(date(2026, 12, 3))),
    # clock times
    ("9 giờ", at(9)),
    ("9 gio", at(9)),
    ("9h", at(9)),
    ("9H30", at(9, 30)),
    ("9 giờ 30", at(9, 30)),
    ("9 giờ 30 phút", at(9, 30)),
    ("9giờ30", at(9, 30)),
    ("9 giờ rưỡi", at(9, 30)),
    ("chín rưỡi", at(9, 30)),
    ("9:30", at(9, 30)),
    ("9 giờ kém 15", at(8, 45)),
    ("2 giờ chiều", at(14, 0, "afternoon")),
    ("hai giờ chiều", at(14, 0, "afternoon")),
    ("9 giờ sáng", at(9, 0, "morning")),
    ("chín giờ sáng", at(9, 0, "morning")),
    ("1 giờ trưa", at(13, 0, "noon")),
    ("12 giờ trưa", at(12, 0, "noon")),
    ("một giờ chiều", at(13, 0, "afternoon")),
    ("mot gio chieu", at(13, 0, "afternoon")),
    ("7 giờ tối", at(19, 0, "evening")),
    ("7 gio toi", at(19, 0, "evening")),
    ("14 giờ", at(14)),
    ("14h15", at(14, 15)),
    ("3 giờ", at(15)),  # a bare 1-6 is afternoon: clinics close at 17h
    ("7 giờ", at(7)),
    ("mười hai giờ", at(12)),
    ("bảy giờ", at(7)),
    ("25 giờ", NOTHING),
    ("9 giờ 75", NOTHING),
    # day and time together
    ("sáng mai 9 giờ", day(date(2026, 11, 29), "morning", time(9))),
    ("tối mai 7 giờ", day(date(2026, 11, 29), "evening", time(19))),
    ("toi mai", day(date(2026, 11, 29), "evening")),
    ("14h30 ngày 15/12", day(date(2026, 12, 15), None, time(14, 30))),
    ("ngày 15 lúc 9 giờ", day(date(2026, 12, 15), None, time(9))),
    ("thứ5 9giờ30", day(date(2026, 12, 3), None, time(9, 30))),
    ("chiều thứ 2, 3 giờ nghe", day(MONDAY, "afternoon", time(15))),
    ("buổi tối", When(None, "evening", None)),
    ("trưa", When(None, "noon", None)),
    ("răng mô, chiều mơi hỉ", day(date(2026, 11, 29), "afternoon")),
    # invalid or not a date/time
    ("31/2", NOTHING),
    ("ngày 32", NOTHING),
    ("5 tháng 13", NOTHING),
    ("", NOTHING),
    ("   ", NOTHING),
    ("không biết", NOTHING),
    ("răng mô", NOTHING),
    ("15", NOTHING),
    ("PA-2026-000123", NOTHING),
    ("mã hồ sơ PA-2026-000123", NOTHING),
    ("0905123456", NOTHING),
    ("số điện thoại 0905 123 456", NOTHING),
    ("+84 905.123.456", NOTHING),
    ("cho tôi đặt lịch", NOTHING),
    ("cho toi dat lich", NOTHING),
    ("tôi mới đi khám về", NOTHING),
    ("nhà tui ở kiệt 12", NOTHING),
    ("tuần này", NOTHING),
    ("tháng này", NOTHING),
    ("Thái", NOTHING),
])
def test_parse_when_on_a_saturday(text, expected):
    assert parse_when(text, SATURDAY) == expected


@pytest.mark.parametrize("text, expected", [
    ("thứ hai", day(MONDAY)),  # today is that weekday: today
    ("thu 2 tuan sau", day(date(2026, 12, 7))),
    ("thứ năm", day(date(2026, 12, 3))),
    ("thứ năm tuần sau", day(date(2026, 12, 10))),
    ("thu nam tuan toi", day(date(2026, 12, 10))),
    ("thứ hai tuần ni", day(MONDAY)),
    ("chủ nhật tuần này", day(date(2026, 12, 6))),
    ("chủ nhật", day(date(2026, 12, 6))),
    ("thứ bảy tuần sau", day(date(2026, 12, 12))),
    ("thứ bảy", day(date(2026, 12, 5))),
    ("ngày 30", day(MONDAY)),
    ("ngày 29", day(date(2026, 12, 29))),
])
def test_parse_when_on_a_monday(text, expected):
    assert parse_when(text, MONDAY) == expected


@pytest.mark.parametrize("text, expected", [
    ("ngày mai", day(date(2026, 12, 31))),
    ("mốt", day(date(2027, 1, 1))),
    ("5/1", day(date(2027, 1, 5))),
    ("ngày 5", day(date(2027, 1, 5))),
    ("ngày 31", day(date(2026, 12, 31))),
    ("mùng 1 tháng 1", day(date(2027, 1, 1))),
    ("thứ hai tuần sau", day(date(2027, 1, 4))),
    ("thứ hai", day(date(2027, 1, 4))),
    ("thứ hai tuần này", day(date(2026, 12, 28))),
    ("29/2", NOTHING),  # 2027 is not a leap year
    ("30/12", day(YEAR_END)),
    ("29/12", day(date(2027, 12, 29))),
])
def test_parse_when_at_the_year_end(text, expected):
    assert parse_when(text, YEAR_END) == expected


def test_parse_when_on_the_31st_skips_months_without_that_day():
    assert parse_when("ngày 31", date(2027, 1, 31)) == day(date(2027, 1, 31))
    assert parse_when("ngày 30", date(2027, 1, 31)) == day(date(2027, 3, 30))




def test_decomposed_unicode_reads_like_composed():
    import unicodedata

    text = unicodedata.normalize("NFD", "chiều thứ năm tuần tới, 2 giờ rưỡi")
    assert parse_when(text, SATURDAY) == day(date(2026, 12, 3), "afternoon", time(14, 30))
