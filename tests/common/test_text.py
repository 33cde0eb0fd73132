import pytest

from common.text import (
    PHONE_IN_TEXT,
    booking_code_in,
    fold,
    mask_sensitive,
    normalize_phone,
    phone_groups,
    same_word,
    words,
)


@pytest.mark.parametrize("text, folded", [
    ("Bệnh viện Trung ương Huế", "benh vien trung uong hue"),
    ("ĐƯỜNG  Lê   Lợi", "duong le loi"),
    ("Vỹ Dạ", "vy da"),
    ("kiệt", "kiet"),
])
def test_fold(text, folded):
    assert fold(text) == folded


@pytest.mark.parametrize("raw, phone", [
    ("0905123456", "0905123456"),
    ("0905 123 456", "0905123456"),
    ("090.512.3456", "0905123456"),
    ("+84 905 123 456", "0905123456"),
    ("84905123456", "0905123456"),
    ("0234 3822 325", "02343822325"),
    ("0123456789", None),   # 01x prefixes were retired in 2018
    ("090512345", None),
    ("", None),
    ("không có", None),
])
def test_normalize_phone(raw, phone):
    assert normalize_phone(raw) == phone


def test_masking_hides_phone_and_id_numbers_but_not_case_codes():
    line = "đặt lịch 0905 123 456, +84905123456, CCCD 046123456789, mã PA-2026-000123, LK-482913"
    masked = mask_sensitive(line)
    assert "123 456" not in masked and "905123456" not in masked and "046123456789" not in masked
    assert "090*****56" in masked and "046*******89" in masked
    assert "PA-2026-000123" in masked and "LK-482913" in masked


@pytest.mark.parametrize("written", ["0234 3822 325", "(0234) 3822 325", "+84 234 3822 325", "84 234 3822325",
                                     "0905 123 456", "090.512.3456", "(090) 512-3456", "+84905123456"])
def test_every_phone_form_normalize_phone_takes_is_found_masked_and_grouped(written):
    line = f"gọi lại số {written} giúp tui"
    assert [m.group() for m in PHONE_IN_TEXT.finditer(line)] == [written]
    masked = mask_sensitive(line)
    digits = normalize_phone(written)
    assert digits and digits[3:-2] not in masked.replace(" ", "")
    assert masked.startswith("gọi lại số ") and masked.endswith(" giúp tui")
    assert "".join(phone_groups(digits)) == digits
    assert [len(g) for g in phone_groups(digits)] == ([4, 4, 3] if len(digits) == 11 else [4, 3, 3])


def test_masking_leaves_identifiers_whole():
    line = "call call-CA6a8e4a0bcc394a74b3be445857490595 started (caller +84905123456)"
    assert mask_sensitive(line) == "call call-CA6a8e4a0bcc394a74b3be445857490595 started (caller 849******56)"
    assert mask_sensitive("GET /fhir/R4/Patient?identifier=phone%7C0905123456&x=1") == (
        "GET /fhir/R4/Patient?identifier=phone%7C090*****56&x=1")


def test_booking_codes_however_typed():
    assert booking_code_in("hủy lịch lk 482 913 giùm") == "LK-482913"
    assert booking_code_in("LK-482913") == booking_code_in("lk.482913") == "LK-482913"
    assert booking_code_in("LK 48291") is None


def test_words_keep_their_diacritics():
    assert words("Dạ, CÓ! cây   đổ") == ("dạ", "có", "cây", "đổ")
    assert words("") == ()


@pytest.mark.parametrize(("said", "word", "same"), [
    ("cây", "cây", True), ("cay", "cây", True), ("cày", "cây", False), ("cây", "cay", False), ("cai", "cây", False),
])
def test_a_word_typed_without_diacritics_is_the_same_word(said, word, same):
    assert same_word(said, word) is same
