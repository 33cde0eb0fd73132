"""Spoken Vietnamese numbers as digits where a phone number, case code, date or time is expected.

Number words are also ordinary words ("ba tui", "năm ngoái", "một mình", "thứ năm", "đường Hai
Bà Trưng"), so a number is rewritten only when its shape (3+ digits said one by one, "pê a" + digits)
or a neighbouring word (ngày, mùng, tháng, năm, số, lúc, giờ, phút, kém, rưỡi) says it is one.
A word with diacritics must be spelled exactly ("bà" is not "ba"); one without counts as what it folds to.
"""
from __future__ import annotations

import re
import unicodedata

from common.text import strip_diacritics

# Symbols: "0"-"9" a digit; "1t" mốt, "4i" tư, "5t" lăm/nhăm, said only inside a number;
# "T" mười, "t" mươi (never first), "H" trăm, "K" nghìn/ngàn, "L" linh/lẻ (a zero), "R" rưỡi (a half).
NUMBER_WORDS = {
    "không": "0", "một": "1", "mốt": "1t", "hai": "2", "ba": "3", "bốn": "4", "tư": "4i", "năm": "5",
    "lăm": "5t", "nhăm": "5t", "sáu": "6", "bảy": "7", "bẩy": "7", "tám": "8", "chín": "9", "mười": "T",
    "mươi": "t", "trăm": "H", "nghìn": "K", "ngàn": "K", "linh": "L", "lẻ": "L", "rưỡi": "R", "rưởi": "R",
}
# Words read around numbers; "tối" is left out as without diacritics it is also "tôi" (I).
_VOCABULARY = ("ngày mùng mồng tháng năm giờ phút kém rưỡi số nhà lúc thứ đường phố ni này chừ sáng trưa"
               " chiều đúng lần bữa viên lượt cữ gói chai đứa tuổi tui tôi tao em mình con cháu pê pờ p a pa")
_DAY = {"ngày", "mùng", "mồng"}
_CONTEXT = _DAY | {"tháng", "năm", "số", "nhà", "lúc", "giờ", "kém", "thứ"}
_NOW = {"ni", "này", "chừ"}  # "giờ ni" is "now", not an hour
_CLOCK = {"rưỡi", "kém", "đúng", "sáng", "trưa", "chiều", "phút"}
_COUNTERS = {"lần", "bữa", "viên", "lượt", "cữ", "gói", "chai", "đứa", "tuổi"}  # "ngày hai lần": twice a day
_PRONOUNS = {"tui", "tôi", "tao", "em", "mình", "con", "cháu"}  # "ba tui": my father
_DIGITS = {str(d) for d in range(10)}
_LEAD = _DIGITS - {"0", "1"}
_AFTER_TEN = (_DIGITS - {"0", "5"}) | {"1t", "4i", "5t"}  # "mười năm" is ten years, 15 is "mười lăm"
_AFTER_LINH = (_DIGITS - {"0"}) | {"4i"}
_IN_RUN = _DIGITS | {"1t", "4i", "L"}
_TOKEN = re.compile(r"\d+|(?:[^\W\d_]|[\u0300-\u036f])+")
_RUN_GAP = re.compile(r"\s*[,\-–]?\s*|\.")
_SENTENCE_END = re.compile(r"[.!?\n]")


def _fold(word: str) -> str:
    return strip_diacritics(word).lower()


_PLAIN_NUMBERS = {_fold(w): s for w, s in NUMBER_WORDS.items()} | {"mot": "1", "muoi": "T"}
_PLAIN_VOCABULARY = {_fold(w): w for w in _VOCABULARY.split()} | {"nay": "này"}


def _at(syms: list, k: int) -> str | None:
    return syms[k] if 0 <= k < len(syms) else None


def _tens(syms: list, i: int) -> tuple[int, int] | None:
    if _at(syms, i) == "T":
        value, j = 10, i + 1
    elif _at(syms, i) in _LEAD and _at(syms, i + 1) in {"T", "t"}:
        value, j = int(syms[i]) * 10, i + 2
    else:
        return None
    return (value + int(syms[j][0]), j + 1) if _at(syms, j) in _AFTER_TEN else (value, j)


def _below_thousand(syms: list, i: int, zero_hundreds: bool = False) -> tuple[int, int] | None:
    lead, nxt = _at(syms, i), _at(syms, i + 2)
    if _at(syms, i + 1) == "H" and (lead in _DIGITS - {"0"} or zero_hundreds and lead == "0"):
        value = int(lead) * 100
        if nxt == "L" and _at(syms, i + 3) in _AFTER_LINH:
            return value + int(syms[i + 3][0]), i + 4
        tens = _tens(syms, i + 2)
        if tens:
            return value + tens[0], tens[1]
        if nxt in _AFTER_TEN:  # "hai trăm mốt" = 210
            return value + int(nxt[0]) * 10, i + 3
        return (value + 50, i + 3) if nxt == "R" else (value, i + 2)
    return _tens(syms, i) or ((int(lead), i + 1) if lead in _DIGITS else None)


def _number(syms: list) -> tuple[int, int] | None:
    """The longest number at the start of syms: (value, words used)."""
    first = _below_thousand(syms, 0)
    if not first or _at(syms, first[1]) != "K":
        return first
    value, j = first[0] * 1000, first[1] + 1
    nxt = _at(syms, j)
    if nxt == "L" and _at(syms, j + 1) in _AFTER_LINH:
        return value + int(syms[j + 1][0]), j + 2
    if nxt == "R":
        return value + 500, j + 1
    rest = _below_thousand(syms, j, zero_hundreds=True)
    if rest and rest[1] == j + 1:  # "ba nghìn hai" = 3200; "hai nghìn không" is 2000 and a "no"
        return (value + int(nxt) * 100, j + 1) if nxt in _LEAD | {"1"} else (value, j)
    return (value + rest[0], rest[1]) if rest else (value, j)


def _symbol(word: str) -> str | None:
    low = unicodedata.normalize("NFC", word.strip()).lower()
    return _PLAIN_NUMBERS.get(low) if low == _fold(low) else NUMBER_WORDS.get(low)


def read_number(words: list[str]) -> int | None:
    """A whole spoken number, e.g. ["năm","trăm","mười","hai"] -> 512, ["hai","mươi","lăm"] -> 25; None if the
    words are not exactly one number (digits said one by one, "không chín", are not one number)."""
    syms = [_symbol(w) for w in words]
    found = _number(syms) if syms and None not in syms else None
    return found[0] if found and found[1] == len(syms) else None


def digits_in_words(text: str) -> str:
    """Rewrite spoken numbers in a sentence as digits where they are clearly numbers, keep every other word and
    the original spacing/case/diacritics of the other words."""
    return _Sentence(text).rewritten()


def spoken_numbers(text: str) -> list[tuple[int, int, str]]:
    """(start, end, digits) of every number said in words that digits_in_words rewrites."""
    sentence = _Sentence(text)
    sentence.rewritten()
    return sentence.replaced


class _Sentence:
    def __init__(self, text: str) -> None:
        self.text, self.tokens = text, list(_TOKEN.finditer(text))
        self.raw = [m.group() for m in self.tokens]
        low = [unicodedata.normalize("NFC", w).lower() for w in self.raw]
        self.plain = [w == _fold(w) for w in low]
        self.sym = [(_PLAIN_NUMBERS if p else NUMBER_WORDS).get(w) for w, p in zip(low, self.plain)]
        self.word = [_PLAIN_VOCABULARY.get(w) if p else w for w, p in zip(low, self.plain)]
        self.gaps = [text[(self.tokens[k - 1].end() if k else 0):m.start()] for k, m in enumerate(self.tokens)]
        self.out = list(self.raw)
        self.numeric = [w.isdigit() for w in self.raw]
        self.replaced: list[tuple[int, int, str]] = []

    def rewritten(self) -> str:
        i = 0
        while i < len(self.raw):
            i = self._case_code(i) or self._kept(i) or self._digits(i) or self._compound(i) or i + 1
        tail = self.text[self.tokens[-1].end():] if self.tokens else self.text
        return "".join(gap + out for gap, out in zip(self.gaps, self.out)) + tail

    def _joined(self, k: int) -> bool:
        return 0 < k < len(self.raw) and self.gaps[k].isspace()

    def _title(self, k: int) -> bool:
        return 0 <= k < len(self.raw) and self.raw[k][:1].isupper() and not self.raw[k][1:].isupper()

    def _replace(self, first: int, last: int, text: str) -> int:
        self.replaced.append((self.tokens[first].start(), self.tokens[last].end(), text))
        self.out[first:last + 1] = [text] + [""] * (last - first)
        self.gaps[first + 1:last + 1] = [""] * (last - first)
        self.numeric[first:last + 1] = [True] * (last - first + 1)
        return last + 1

    def _parse(self, i: int) -> tuple[int, int] | None:
        """The number said from token i on, as (value, index after it)."""
        end = i + 1
        while self._joined(end):
            end += 1
        found = _number(self.sym[i:end]) if 0 <= i < len(self.raw) else None
        return (found[0], i + found[1]) if found else None

    def _run(self, i: int, written: bool = False) -> list[int]:
        """Tokens i… of digits said one by one ("không chín không năm, một hai ba"), with written digits if asked."""
        run, k = [], i
        while k < len(self.raw) and (self.sym[k] in _IN_RUN or written and self.numeric[k]):
            if run and not (self.gaps[k] and _RUN_GAP.fullmatch(self.gaps[k])):
                break
            run.append(k)
            k += 1
        if run and _at(self.sym, k) in {"T", "t", "H", "K", "5t"}:  # the last digit starts "hai mươi", "bốn lăm"…
            run.pop()
        while run and self.sym[run[-1]] == "L":
            run.pop()
        return run

    def _digit_text(self, run: list[int]) -> str:
        return "".join(self.raw[k] if self.numeric[k] else "0" if self.sym[k] == "L" else self.sym[k][0] for k in run)

    def _case_code(self, i: int) -> int | None:
        """"pê a hai không hai sáu không không không một hai ba" -> "PA-2026-000123"."""
        if self.word[i] in {"pê", "pờ", "p"} and self.word[i + 1:i + 2] == ["a"] \
                and re.fullmatch(r"\s*-?\s*", self.gaps[i + 1]):
            start = i + 2
        elif self.word[i] == "pa":
            start = i + 1
        else:
            return None
        run = self._run(start, written=True) if start < len(self.raw) and _RUN_GAP.fullmatch(self.gaps[start]) else []
        if not run or (start == i + 1 and all(self.numeric[k] for k in run)):  # typed "PA-2026-000123" stays
            return None
        digits = self._digit_text(run)
        return self._replace(i, run[-1], f"PA-{digits[:4]}-{digits[4:]}" if len(digits) == 10 else "PA" + digits)

    def _kept(self, i: int) -> int | None:
        """Weekdays ("thứ năm") and names ("đường Ba Tháng Hai", "ông Tư", "Nguyễn Văn Ba") stay words."""
        if self.word[i] == "thứ" and self._joined(i + 1) and self.sym[i + 1] in _LEAD | {"4i"}:
            return i + 2
        if self.sym[i] is None:
            return None
        prev = self.word[i - 1] if self._joined(i) else None
        inside = i > 0 and not _SENTENCE_END.search(self.gaps[i])
        named = inside and prev not in _CONTEXT and self.sym[i - 1] is None and not self.numeric[i - 1]
        if prev in {"đường", "phố"} or self._title(i) and (
                named or prev not in _DAY and self._title(i + 1) and self.word[i + 1] == "tháng"):
            k = i + 1
            while self._joined(k) and (self._title(k) or self.sym[k] or self.word[k] == "tháng"):
                k += 1
            return k
        return None

    def _digits(self, i: int) -> int | None:
        """Three or more digits said one by one; "năm" before a year said so ("năm hai không hai sáu") stays."""
        if self.sym[i] not in _DIGITS:
            return None
        run = self._run(i)
        for k, token in enumerate(run[:3]):
            year = self._digit_text(run[k + 1:])
            if self.sym[token] == "5" and year[:2] in {"19", "20"} and len(year) <= 4:
                if k == 0 and len(year) == 4:
                    return self._replace(run[1], run[-1], year)
                run = run[:k] if k else []
                break
        if len(run) < 3 or {self.sym[k] for k in run} == {"0"}:  # "không không không" is "no no no"
            return None
        return self._replace(i, run[-1], self._digit_text(run))

    def _compound(self, i: int) -> int | None:
        found = self._parse(i)
        if not found or not self._expected(i, *found):
            return None
        return self._replace(i, found[1] - 1, str(found[0]))

    def _expected(self, i: int, value: int, j: int) -> bool:
        """Whether the words around the number at i…j-1 ask for a number there."""
        prev = self.word[i - 1] if self._joined(i) and not self.numeric[i - 1] else None
        prev2 = self.word[i - 2] if prev and self._joined(i - 1) else None
        nxt = self.word[j] if self._joined(j) else None
        nxt2 = self.word[j + 1] if nxt and self._joined(j + 1) else None
        single = j == i + 1
        if nxt in _COUNTERS or single and self.sym[i] == "3" and nxt in _PRONOUNS and prev != "tháng":
            return False
        if prev in _DAY:  # "ngày một yếu" is "weaker day by day"
            return 1 <= value <= 31 and not (prev == "ngày" and single and self.sym[i] == "1" and nxt != "tháng")
        if prev in {"tháng", "năm", "số", "lúc"} or prev == "nhà" and prev2 == "số":
            return {"tháng": 1 <= value <= 12, "năm": value >= 1000, "lúc": value <= 24}.get(prev, True)
        if prev == "giờ" and self._joined(i - 1) and self.numeric[i - 2] or prev == "kém" and prev2 == "giờ":
            return value <= 59
        if nxt == "giờ" and value <= 24 and nxt2 not in _NOW:
            # Without diacritics "bay gio" is mostly "bây giờ" (now) and "sau gio" "sau giờ" (after hours).
            return not (single and self.plain[i] and self.raw[i].lower() in {"bay", "sau"}) or prev == "lúc" \
                or nxt2 in _CLOCK or self._parse(j + 1) is not None
        if nxt == "tháng":  # "mười lăm tháng mười hai"
            month = self._parse(j + 1) if self._joined(j + 1) else None
            return bool(month) and 1 <= value <= 31 and 1 <= month[0] <= 12 \
                and _at(self.word, month[1]) not in _COUNTERS
        return nxt == "phút" and value <= 59 or nxt == "rưỡi" and value <= 24
