"""How a word is seen by the intent featurizers: standard Vietnamese, lower case, no diacritics.

Elders type without diacritics, in teen-code and in the Huế dialect; speech recognition
adds its own spellings. Mapping every token to one folded standard form makes
"phan anh rac", "phản ánh rác" and "tui phản ánh rác" look alike to the classifier,
while the original text stays untouched for entities and free-text answers.
"""
from __future__ import annotations

import unicodedata

from common.numbers import spoken_numbers
from common.text import ABBREVIATIONS, CASE_ID_IN_TEXT, PHONE_IN_TEXT, fold, normalize_phone

# Every phone number or case code, written or said, looks the same to the classifier:
# the digits themselves say nothing about the intent, and "không không…" is not a refusal.
PHONE, CASE_CODE, REST_OF_NUMBER = "sodienthoai", "maphananh", "."

# Huế words and their standard forms (accented spellings only: without diacritics most collide).
DIALECT = {
    "mô": "đâu", "tê": "kia", "rứa": "vậy", "chừ": "bây giờ", "ni": "này", "nớ": "đó", "ri": "thế này",
    "chi": "gì", "mơi": "mai", "mạ": "mẹ", "ôn": "ông", "mệ": "bà", "en": "anh", "hỉ": "nhỉ",
    "khôn": "không", "tui": "tôi", "kiệt": "hẻm", "nờ": "nào", "bựa": "bữa", "hè": "nhỉ",
    "răng": "sao",
}
# Standard words whose folded form collides with a word that matters more: "ảnh" (photo)
# would fold to the "ánh" of "phản ánh".
SYNONYMS = {"ảnh": "hình", "hình ảnh": "hình"}
# Without diacritics, only the forms that collide with nothing common.
DIALECT_FOLDED = {"tui": "toi", "ni": "nay", "chi": "gi", "kiet": "hem"}

# "răng" is a tooth after these words (khám răng, nhổ răng), "sao" elsewhere.
_TOOTH_CONTEXT = {"khám", "kham", "nhổ", "đau", "trám", "sâu", "làm", "chữa", "hàm", "cái", "cái"}


def standard(word: str, previous: str | None = None, following: str | None = None) -> str:
    """The standard Vietnamese form of one token (lower case, diacritics kept)."""
    word = unicodedata.normalize("NFC", word).lower().strip(".,!?;:…\"'()")
    if word in ABBREVIATIONS:
        return ABBREVIATIONS[word]
    if word == "răng" and (previous in _TOOTH_CONTEXT or following in ("hàm", "ham", "giả", "gia")):
        return word
    if word in DIALECT:
        return DIALECT[word]
    if word in SYNONYMS:
        return SYNONYMS[word]
    return DIALECT_FOLDED.get(word, word)


def lemma(word: str, previous: str | None = None, following: str | None = None) -> str:
    """What the intent featurizers see: the standard form, folded (no diacritics)."""
    return fold(standard(word, previous and previous.lower(), following and following.lower()))


def number_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, placeholder) of the phone numbers and case codes in a sentence."""
    spans = [(m.start(), m.end(), PHONE) for m in PHONE_IN_TEXT.finditer(text)]
    spans += [(m.start(), m.end(), CASE_CODE) for m in CASE_ID_IN_TEXT.finditer(text)]
    for start, end, digits in spoken_numbers(text):
        if digits.startswith("PA"):
            spans.append((start, end, CASE_CODE))
        elif normalize_phone(digits):
            spans.append((start, end, PHONE))
    return spans


def lemmas(words: list[str]) -> list[str]:
    return [lemma(w, words[i - 1] if i else None, words[i + 1] if i + 1 < len(words) else None)
            for i, w in enumerate(words)]
