import unicodedata

import pytest

from hue_nlu.normalize import lemma, lemmas, number_spans, standard


@pytest.mark.parametrize("words, expected", [
    ("phản ánh rác", "phan anh rac"),
    ("phan anh rac", "phan anh rac"),
    ("PHẢN ÁNH RÁC", "phan anh rac"),
    ("tui ở mô", "toi o dau"),
    ("răng chừ chưa ai dọn rứa hỉ", "sao bay gio chua ai don vay nhi"),
    ("mơi mệ đi khám nghe", "mai ba di kham nghe"),
    ("ko dc thi gap cb", "khong duoc thi gap can bo"),
    ("cho tui sdt cua bv", "cho toi so dien thoai cua benh vien"),
    ("đi tyt phường", "di tram y te phuong"),
    ("cái chi rứa", "cai gi vay"),
    ("khám răng", "kham rang"),        # a tooth here, not "sao"
    ("nhổ răng hàm", "nho rang ham"),
    ("răng rứa", "sao vay"),
    ("kiệt 5 Chi Lăng", "hem 5 gi lang"),  # features only: entities read the text as typed
])
def test_lemmas_are_folded_standard_forms(words, expected):
    assert " ".join(lemmas(words.split())) == expected


@pytest.mark.parametrize("word", ["Ngô", "Quyền", "Lê", "Lợi", "Huế", "0905123456", "PA-2026-000123", "ở"])
def test_ordinary_words_only_lose_case_and_diacritics(word):
    assert standard(word) == word.lower()


def test_decomposed_input_reads_like_composed():
    # Some keyboards send decomposed characters: the dialect word must still be recognised.
    assert lemma(unicodedata.normalize("NFD", "rứa")) == lemma("rứa") == "vay"


@pytest.mark.parametrize("text, spans", [
    ("số tui 0905 123 456 nghe", [("0905 123 456", "sodienthoai")]),
    ("+84905123456", [("+84905123456", "sodienthoai")]),
    ("mã PA-2026-000123 tới mô rồi", [("PA-2026-000123", "maphananh")]),
    ("không chín không năm một hai ba bốn năm sáu", [("không chín không năm một hai ba bốn năm sáu", "sodienthoai")]),
    ("pê a hai không hai sáu không không không một hai ba", [
        ("pê a hai không hai sáu không không không một hai ba", "maphananh")]),
    ("không không không, tui không nói rứa", []),
    ("ba ngày rồi chưa ai dọn", []),
])
def test_numbers_that_are_phones_or_case_codes(text, spans):
    assert [(text[s:e], kind) for s, e, kind in number_spans(text)] == spans
