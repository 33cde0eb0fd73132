import unicodedata

import pytest

from common.numbers import digits_in_words, read_number


@pytest.mark.parametrize("words, number", [
    ("năm trăm mười hai", 512),
    ("hai mươi lăm", 25),
    ("mười lăm", 15),
    ("mười", 10),
    ("chín", 9),
    ("không", 0),
    ("mười bốn", 14),
    ("hai mươi mốt", 21),
    ("hai mươi tư", 24),
    ("năm mươi", 50),
    ("một trăm linh năm", 105),
    ("hai trăm mốt", 210),   # short for "hai trăm mười"
    ("hai trăm rưỡi", 250),
    ("một nghìn hai trăm", 1200),
    ("một ngàn hai trăm", 1200),
    ("ba nghìn hai", 3200),
    ("hai nghìn lẻ năm", 2005),
    ("hai nghìn không trăm hai mươi sáu", 2026),
    ("hai nghìn hai mươi sáu", 2026),
    ("một nghìn chín trăm bốn mươi lăm", 1945),
    ("nam tram muoi hai", 512),
    ("HAI MUOI LAM", 25),
    ("Bảy Mươi", 70),
])
def test_read_number(words, number):
    assert read_number(words.split()) == number


@pytest.mark.parametrize("words", [
    "", "không chín", "một hai ba", "mười năm", "hai mươi năm", "tư", "lăm", "trăm", "ba tui", "hai nghìn không",
    "một mươi", "mươi", "mươi hai", "bà",
])
def test_read_number_refuses_what_is_not_one_number(words):
    assert read_number(words.split()) is None


@pytest.mark.parametrize("text, expected", [
    # Digits said one by one: phone numbers.
    ("số tui là không chín không năm một hai ba bốn năm sáu", "số tui là 0905123456"),
    ("không chín không năm, một hai ba, bốn năm sáu", "0905123456"),
    ("so tui la khong chin khong nam mot hai ba bon nam sau", "so tui la 0905123456"),
    ("Không Chín Một Ba, bốn bẩy tám, sáu linh hai", "0913478602"),
    ("KHÔNG CHÍN KHÔNG NĂM MỘT HAI BA BỐN NĂM SÁU", "0905123456"),
    ("số 0905 một hai ba bốn năm sáu nghe", "số 0905 123456 nghe"),
    ("số của ba tui là không hai ba bốn ba tám hai hai ba hai năm", "số của ba tui là 02343822325"),
    # Case codes.
    ("pê a hai không hai sáu không không không một hai ba", "PA-2026-000123"),
    ("mã hồ sơ pê-a hai không hai sáu, không không không, một hai ba", "mã hồ sơ PA-2026-000123"),
    ("pe a hai khong hai sau khong khong khong mot hai ba", "PA-2026-000123"),
    ("p a 2026 không không không một hai ba", "PA-2026-000123"),
    ("PA hai không hai sáu không không không một hai ba nghe", "PA-2026-000123 nghe"),
    ("pê a một hai ba", "PA123"),
    # Times.
    ("chín giờ sáng", "9 giờ sáng"),
    ("chin gio sang", "9 gio sang"),
    ("hai giờ rưỡi chiều", "2 giờ rưỡi chiều"),
    ("chín rưỡi", "9 rưỡi"),
    ("mười hai giờ trưa", "12 giờ trưa"),
    ("chín giờ mười lăm", "9 giờ 15"),
    ("mười giờ kém mười lăm", "10 giờ kém 15"),
    ("8 giờ ba mươi phút", "8 giờ 30 phút"),
    ("lúc năm giờ chiều thứ sáu", "lúc 5 giờ chiều thứ sáu"),
    ("bảy giờ tối", "7 giờ tối"),
    ("luc bay gio toi", "luc 7 gio toi"),
    ("bay gio ruoi sang", "7 gio ruoi sang"),
    # Dates.
    ("ngày mười lăm tháng mười hai", "ngày 15 tháng 12"),
    ("ngay muoi lam thang muoi hai", "ngay 15 thang 12"),
    ("Ngày Mười Lăm Tháng Mười Hai", "Ngày 15 Tháng 12"),
    ("mười lăm tháng mười hai", "15 tháng 12"),
    ("ngày ba tháng hai", "ngày 3 tháng 2"),
    ("mùng năm", "mùng 5"),
    ("mồng một tết", "mồng 1 tết"),
    ("mung nam thang gieng", "mung 5 thang gieng"),
    ("tháng ba tui đi khám", "tháng 3 tui đi khám"),
    ("ngày mười hai tháng ba năm hai không hai sáu", "ngày 12 tháng 3 năm 2026"),
    ("tháng năm năm hai nghìn không trăm hai mươi sáu", "tháng 5 năm 2026"),
    ("sinh năm một nghìn chín trăm bốn mươi lăm", "sinh năm 1945"),
    ("thứ năm tuần sau, hai giờ chiều", "thứ năm tuần sau, 2 giờ chiều"),
    ("thứ hai ba giờ chiều", "thứ hai 3 giờ chiều"),
    # House numbers.
    ("số nhà năm trăm mười hai", "số nhà 512"),
    ("so nha nam tram muoi hai", "so nha 512"),
    ("Hai Bà Trưng số năm", "Hai Bà Trưng số 5"),
    # Spacing, case and punctuation of the other words are kept.
    ("  Chín   giờ,  mùng   MỘT!", "  9   giờ,  mùng   1!"),
])
def test_digits_in_words(text, expected):
    assert digits_in_words(text) == expected


@pytest.mark.parametrize("text", [
    "Ngô Quyền",
    "đường Hai Bà Trưng",
    "duong hai ba trung",
    "đường Ba Tháng Hai",
    "đường ba tháng hai",
    "nhà tui ở Ba Tháng Hai",
    "Phan Bội Châu",
    "đường Hai Mươi Ba Tháng Tám",
    "thứ năm tuần sau",
    "thu nam tuan sau",
    "Thứ Hai, thứ ba, thứ tư, thứ sáu, thứ bảy, chủ nhật",
    "ba tui",
    "ba toi bi dau",
    "bây giờ ba tui đi khám",
    "một mình",
    "mot minh",
    "năm ngoái",
    "nam ngoai",
    "năm nay",
    "bảy",
    "sáu",
    "tháng giêng",
    "ba ngày",          # a duration: only dates and clock times are rewritten
    "hai năm",
    "ba tháng",
    "nằm viện năm ngày",
    "hai mươi lăm",     # a number with nothing around it that asks for one
    "ba mươi giờ",      # too many hours for a clock time, and "mươi" alone is no number
    "Nguyễn Văn Ba",
    "ông Tư",
    "chú Ba giờ ni ở mô",
    "anh hai giờ ni ở mô",
    "bay gio toi ranh",  # "bây giờ tôi rảnh" typed without diacritics
    "sau gio lam",
    "mười năm",
    "ngày hai lần",
    "uống ngày ba viên",
    "sức khỏe ngày một yếu",
    "không không không",
    "hai ba ngày",
    "trạm y tế phường",
    "tram y te",
    "PA-2026-000123",
    "mã PA 2026 000123",
    "số 0905123456",
    "9 giờ 30 ngày 15/12/2026",
    "",
    " , ",
])
def test_other_words_stay(text):
    assert digits_in_words(text) == text


def test_decomposed_diacritics_are_read_and_kept():
    text = unicodedata.normalize("NFD", "chín giờ sáng thứ năm, số nhà năm trăm mười hai")
    assert digits_in_words(text) == unicodedata.normalize("NFD", "9 giờ sáng thứ năm, số nhà 512")
