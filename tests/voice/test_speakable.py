import pytest

from voice.speakable import speakable

CASE = "P A, hai không hai sáu, không không không, một hai ba"
PHONE = "không chín không năm, một hai ba, bốn năm sáu"


@pytest.mark.parametrize("text, spoken", [
    ("Mã phản ánh: PA-2026-000123", f"Mã phản ánh: {CASE}."),
    # as common.wording writes it for reading back, and as citizens type it
    ("Cháu đọc lại: PA 2026 000 123", f"Cháu đọc lại: {CASE}."),
    ("mã pa2026000123 nghe", f"mã {CASE} nghe."),
    ("Mã lịch hẹn: LK-482913", "Mã lịch hẹn: L K, bốn tám hai, chín một ba."),
    ("Cháu đọc lại: LK 482 913", "Cháu đọc lại: L K, bốn tám hai, chín một ba."),
])
def test_codes_are_read_as_letters_and_digit_groups(text, spoken):
    assert speakable(text) == spoken


@pytest.mark.parametrize("phone", ["0905 123 456", "0905123456", "0905.123.456", "+84 905 123 456"])
def test_phone_numbers_are_read_digit_by_digit_in_groups(phone):
    assert speakable(f"Số của bác là {phone}, đúng không ạ?") == f"Số của bác là {PHONE}, đúng không ạ?"


@pytest.mark.parametrize("phone", ["0234 3822 325", "02343822325", "(0234) 3822 325", "+84 234 3822 325"])
def test_landlines_are_read_in_their_own_groups(phone):
    assert speakable(f"Số nhà bác là {phone} ạ.") == (
        "Số nhà bác là không hai ba bốn, ba tám hai hai, ba hai năm ạ.")


@pytest.mark.parametrize("text, spoken", [
    ("Mời bác đến lúc 8:30 sáng.", "Mời bác đến lúc 8 giờ 30 sáng."),
    ("Từ 7h30 đến 17:00.", "Từ 7 giờ 30 đến 17 giờ."),
    ("Khám lúc 14g05 nghe.", "Khám lúc 14 giờ 5 nghe."),
    ("Thứ Hai, 15/12/2026.", "Thứ Hai, 15 tháng 12 năm 2026."),
    ("Ví dụ “15/12” ạ.", "Ví dụ “15 tháng 12” ạ."),
])
def test_times_and_dates_are_said_in_words(text, spoken):
    assert speakable(text) == spoken


def test_emoji_markup_bullets_and_links_are_not_read():
    text = ("👍🏽 *Dạ*, cháu giúp được bác ✅:\n• Phản ánh rác\n- Đặt lịch khám 🇻🇳\n"
            "Xem thêm tại https://hue.gov.vn/dich-vu?x=1 hoặc www.hue.gov.vn nghe")
    assert speakable(text) == "Dạ, cháu giúp được bác: Phản ánh rác. Đặt lịch khám. Xem thêm tại hoặc nghe."


@pytest.mark.parametrize("text", [
    "Dạ, nhà bác ở 12 đường Ngô Quyền, phường Vĩnh Ninh phải không ạ?",
    "Bác viết ngắn lại dưới 4000 chữ giúp cháu nghe.",
    "Cán bộ trả lời trong giờ làm việc (7 giờ 30 đến 17 giờ, thứ Hai đến thứ Sáu).",
    "Bác nhớ mang theo căn cước công dân (CCCD), đến sớm 15 phút ạ.",
    "Trời 30°C, ngày hai lần, ba tui năm nay 80 tuổi.",
])
def test_ordinary_sentences_are_unchanged(text):
    assert speakable(text) == text


def test_nothing_left_to_say():
    assert speakable("👍 🙏\n\n") == ""
