"""Vietnamese text helpers: accent folding, phone numbers, masking them."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
# Mobiles 03/05/07/08/09 and 10 digits; landlines 02x with an area code, 11 digits (Huế: 0234 3822 325).
_VN_PHONE = re.compile(r"0(?:[35789]\d{8}|2\d{9})")


def strip_diacritics(text: str) -> str:
    """'Vỹ Dạ, Đông Ba' -> 'Vy Da, Dong Ba': as typed on a keyboard without Vietnamese input."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if unicodedata.category(c) != "Mn"))


def fold(text: str) -> str:
    """Lower-case, strip diacritics (đ -> d) and squeeze spaces: 'Vỹ Dạ' -> 'vy da'."""
    return " ".join(strip_diacritics(text).lower().split())


# Teen-code and abbreviations, keyed by the lower-case token.
ABBREVIATIONS = {
    "ko": "không", "k": "không", "kg": "không", "hok": "không", "hông": "không", "hong": "không",
    "khg": "không", "dc": "được", "đc": "được", "dk": "được", "đk": "được", "j": "gì", "z": "vậy",
    "v": "vậy", "r": "rồi", "ok": "được", "oke": "được", "okie": "được", "oki": "được",
    "sdt": "số điện thoại", "sđt": "số điện thoại", "đt": "điện thoại", "dt": "điện thoại",
    "bv": "bệnh viện", "tyt": "trạm y tế", "ntn": "như thế nào", "bn": "bao nhiêu", "vs": "với",
    "cb": "cán bộ", "ubnd": "ủy ban nhân dân", "p": "phường", "đc.": "địa chỉ",
}


def words(text: str) -> tuple[str, ...]:
    """Lower-case words with their diacritics: 'Dạ, CÓ!' -> ('dạ', 'có')."""
    return tuple(re.findall(r"\w+", unicodedata.normalize("NFC", text.lower())))


def written_out(said: tuple[str, ...]) -> tuple[str, ...]:
    """Abbreviations written out: ('ko', 'co', 'anh') -> ('không', 'co', 'anh')."""
    return tuple(part for word in said for part in ABBREVIATIONS.get(word, word).split())


def same_word(said: str, word: str) -> bool:
    """A word said matches a known word: equal, or typed without diacritics and equal once folded
    ('cay' is 'cây'; 'cày', typed with its own marks, is not)."""
    return said == word or (said == fold(said) and said == fold(word))


def phone_groups(phone: str) -> tuple[str, ...]:
    """How a normalised number is said, in groups: '0905 123 456'; a landline '0234 3822 325'."""
    if len(phone) == 11:
        return phone[:4], phone[4:8], phone[8:]
    return phone[:4], phone[4:7], phone[7:]


def normalize_phone(raw: str) -> str | None:
    """'+84 905.123.456' -> '0905123456'; None when it is not a Vietnamese number."""
    digits = _PHONE_SEPARATORS.sub("", raw or "")
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    return digits if _VN_PHONE.fullmatch(digits) else None


CASE_ID_IN_TEXT = re.compile(r"\bpa[\s.\-]*(\d{4})[\s.\-]*(\d{3})\s*(\d{3})\b", re.IGNORECASE)


def case_id_in(text: str) -> str | None:
    """The case code in a text, however typed: 'pa 2026 000 123', 'PA2026000123' -> 'PA-2026-000123'."""
    match = CASE_ID_IN_TEXT.search(text or "")
    return f"PA-{match.group(1)}-{match.group(2)}{match.group(3)}" if match else None


BOOKING_CODE_IN_TEXT = re.compile(r"\blk[\s.\-]*(\d{3})\s*(\d{3})\b", re.IGNORECASE)


def booking_code_in(text: str) -> str | None:
    """The booking code in a text, however typed: 'lk 482 913' -> 'LK-482913'."""
    match = BOOKING_CODE_IN_TEXT.search(text or "")
    return f"LK-{match.group(1)}{match.group(2)}" if match else None


# A phone number as written in a sentence, in every form normalize_phone accepts: separators, brackets, +84.
_SEP = r"[\s.\-()]{0,2}"
PHONE_IN_TEXT = re.compile(rf"(?<!\d)\(?(?:\+?84|0)(?:{_SEP}[35789](?:{_SEP}\d){{8}}|{_SEP}2(?:{_SEP}\d){{9}})(?!\d)")
# To mask, any number shaped like one (retired prefixes too), and 9/12-digit ID card numbers, as numbers of their
# own: digits inside an identifier (a call's "CA6a8e…445857490595") are not a number, and masking them would break
# following it in the logs; after a URL escape ("phone%7C0905123456") they are.
_SENSITIVE = re.compile(r"(?:(?<![A-Za-z0-9])|(?<=%[0-9A-Fa-f]{2}))(?:\(?(?:\+?84|0)(?:" + _SEP + r"\d){8,10}(?!\d)"
                        + r"|(?<![\d-])\d{12}(?!\d)|(?<![\d-])\d{9}(?!\d))(?![A-Za-z0-9])")


def mask_sensitive(text: str) -> str:
    """Keep the first 3 and last 2 digits so a number is recognisable but not usable."""
    def _mask(match: re.Match) -> str:
        digits = re.sub(r"\D", "", match.group())
        return digits[:3] + "*" * (len(digits) - 5) + digits[-2:]

    return _SENSITIVE.sub(_mask, text)


def levenshtein(a: Sequence, b: Sequence) -> int:
    """Edits (insert, delete, replace) from one sequence to the other: of letters, words or syllables."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        diagonal, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (x != y))
    return row[-1]
