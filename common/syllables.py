"""Vietnamese syllables: whether a token is one, and repairing recognised text whose syllables were glued together.

A written Vietnamese syllable is an onset (b, c, ch, d, đ, g, gh, gi, h, k, kh, l, m, n, ng, ngh, nh, p, ph, qu, r,
s, t, th, tr, v, x, or none), a rhyme (an optional glide o/u, a vowel nucleus, an optional coda c, ch, m, n, ng, nh,
p, t or a semivowel i, y, o, u) and at most one tone mark, with the spelling rules of the language: k, gh and ngh
only before i, y, e, ê; c, g and ng never there; q only as qu; a rhyme ending in p, t, c or ch takes only the
sắc or nặng tone. The rhymes are listed (RHYMES) rather than generated, as not every nucleus takes every coda.

Text typed without diacritics is a syllable when its letters can be one once marks are put back ('nguoi' is
'người'). Digits, known abbreviations ('cccd', 'bhyt', 'ok') and words without any Vietnamese mark ('zalo',
'telegram') are never repaired: they are loanwords, names or numbers, not broken syllables.

viet-asr sometimes glues two syllables and swallows the next one's initial, more often at 8 kHz: 'xuống giãy giụa'
is heard as 'xuốngãyụ', 'phóng uế' as 'phóngế'. repair() splits such a token into the fewest valid syllables
('xuống ãy ụ'), which at least marks where it broke, and drops what cannot be split.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from common.text import ABBREVIATIONS, fold

# Combining tone marks (NFD): huyền, sắc, hỏi, ngã, nặng. Breve, circumflex and horn are vowel qualities.
GRAVE, ACUTE, HOOK, TILDE, DOT = "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"
TONES = {GRAVE: "huyền", ACUTE: "sắc", HOOK: "hỏi", TILDE: "ngã", DOT: "nặng"}
STOP_TONES = {ACUTE, DOT}

ONSETS = ("", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng", "ngh", "nh", "p", "ph",
          "qu", "r", "s", "t", "th", "tr", "v", "x")
# Onsets written only before a front vowel (i, y, e, ê) and those never written there.
FRONT_ONLY = {"k", "gh", "ngh"}
NEVER_FRONT = {"c", "g", "ng"}

# Rhymes without a glide, by nucleus. 'oo' is in 'xoong', 'boong'.
_BASE = """
a ac ach ai am an ang anh ao ap at au ay
ăc ăm ăn ăng ăp ăt
âc âm ân âng âp ât âu ây
e ec em en eng eo ep et
ê êch êm ên ênh êp êt êu
i ia ich im in inh ip it iu
iêc iêm iên iêng iêp iêt iêu
y ya yêm yên yêng yêt yêu
o oc oi om on ong op ot ooc oong
ô ôc ôi ôm ôn ông ôp ôt
ơ ơi ơm ơn ơp ơt
u ua uc ui um un ung up ut
uôc uôi uôm uôn uông uôt
ư ưa ưc ưi ưm ưn ưng ưt ưu
ươc ươi ươm ươn ương ươp ươt ươu
"""
# Rhymes with the glide o/u (written o before a, ă, e; u before â, ê, y, ơ).
_GLIDED = """
oa oac oach oai oam oan oang oanh oao oap oat oay
oăc oăm oăn oăng oăt
oe oem oen oeo oet
uân uâng uât uây
uê uêch uênh
uy uya uych uyn uynh uyp uyt uyu
uyên uyêt
uơ
"""
BASE_RHYMES = frozenset(_BASE.split())
GLIDED_RHYMES = frozenset(_GLIDED.split())
RHYMES = BASE_RHYMES | GLIDED_RHYMES
# After q the u is written as part of the onset: 'qua', 'quân', 'quốc', 'quy', 'quyết'.
QU_RHYMES = frozenset(r for r in BASE_RHYMES if r[0] not in "uưo" or r.startswith("ô")) | frozenset(
    r[1:] for r in GLIDED_RHYMES if r.startswith("u") and len(r) > 1)
STOPS = ("c", "ch", "p", "t")
FRONT = tuple("iyeê")

# Never repaired: abbreviations and loanwords an elder may say or type (common.text.ABBREVIATIONS too).
KNOWN = frozenset({"cccd", "cmnd", "bhyt", "bhxh", "atm", "sms", "otp", "ok", "oke", "zalo", "telegram", "facebook",
                   "email", "wifi", "internet", "tivi", "video", "clip", "app", "online", "pa", "lk", "tp", "hcm",
                   "ubnd", "sđt", "sdt", "bv", "tyt", "đt", "dt"}) | frozenset(ABBREVIATIONS)

_MARKED = re.compile(r"[^\x00-\x7f]")


def _tone_marks(token: str) -> list[str]:
    return [c for c in unicodedata.normalize("NFD", token) if c in TONES]


def _toneless(token: str) -> str:
    """The token without its tone marks but with its vowel qualities: 'người' -> 'người' minus huyền = 'ngươi'."""
    return unicodedata.normalize("NFC", "".join(c for c in unicodedata.normalize("NFD", token) if c not in TONES))


def _split_onset(plain: str, onsets: tuple[str, ...]) -> list[tuple[str, str]]:
    """Every (onset, rest) reading of a toneless token, longest onset first."""
    return [(o, plain[len(o):]) for o in sorted(onsets, key=len, reverse=True) if plain.startswith(o)]


def _spelled_right(onset: str, rhyme: str) -> bool:
    front = rhyme.startswith(FRONT)
    if onset == "g" and rhyme.startswith("i"):
        return True  # 'gì', 'gìn', 'giếng': the onset gi before a rhyme starting with i is written with one i
    if onset in FRONT_ONLY:
        return front
    if onset in NEVER_FRONT:
        return not front
    return True


def _rhymes_for(onset: str) -> frozenset[str]:
    if onset == "qu":
        return QU_RHYMES
    if onset == "gi":
        return frozenset(r for r in RHYMES if not r.startswith(("i", "y")))
    return RHYMES


@functools.cache
def _folded_readings() -> dict[str, frozenset[str]]:
    """Folded onset -> folded rhymes it can take, for text without diacritics."""
    readings: dict[str, set[str]] = {}
    for onset in ONSETS:
        for rhyme in _rhymes_for(onset):
            if _spelled_right(onset, rhyme):
                readings.setdefault(fold(onset), set()).add(fold(rhyme))
    return {onset: frozenset(rhymes) for onset, rhymes in readings.items()}


def is_syllable(token: str) -> bool:
    """Whether the token is one written Vietnamese syllable; with no diacritics, whether it can be one."""
    token = unicodedata.normalize("NFC", token.lower())
    if not token.isalpha():
        return False
    if not _MARKED.search(token):
        folded = _folded_readings()
        return any(rest in folded[onset] for onset, rest in _split_onset(token, tuple(folded)))
    tones = _tone_marks(token)
    if len(tones) > 1:
        return False
    plain = _toneless(token)
    for onset, rhyme in _split_onset(plain, ONSETS):
        if rhyme in _rhymes_for(onset) and _spelled_right(onset, rhyme):
            if not rhyme.endswith(STOPS) or (tones and tones[0] in STOP_TONES):
                return True
    return False


_LATIN = frozenset("abcdefghijklmnopqrstuvwxyzđ\u0302\u0306\u031b") | frozenset(TONES)


def is_vietnamese_marked(token: str) -> bool:
    """The token is written in Vietnamese letters and carries a Vietnamese letter or mark (so it is no plain
    loanword or abbreviation, and no word of another script, which is not ours to judge)."""
    decomposed = unicodedata.normalize("NFD", token.lower())
    return bool(_MARKED.search(token)) and all(c in _LATIN for c in decomposed)


def keeps_as_is(token: str) -> bool:
    """Numbers, known abbreviations, loanwords and names in plain letters, and valid syllables: never repaired."""
    lower = token.lower()
    return (lower in KNOWN or any(c.isdigit() for c in token) or not is_vietnamese_marked(token)
            or is_syllable(token))


def split_syllables(token: str, most: int = 4) -> list[str] | None:
    """The token as the fewest valid syllables (2 to `most`), the first ones as long as can be; None if it cannot be."""
    token = unicodedata.normalize("NFC", token)

    @functools.cache
    def best(start: int, left: int) -> tuple[str, ...] | None:
        if start == len(token):
            return ()
        if left == 0:
            return None
        options = []
        for end in range(len(token), start, -1):
            if is_syllable(token[start:end]):
                rest = best(end, left - 1)
                if rest is not None:
                    options.append((token[start:end], *rest))
        # Fewest parts; among those, the earliest long part (max() keeps the first, i.e. the longest head).
        return min(options, key=len) if options else None

    parts = best(0, most)
    return list(parts) if parts and len(parts) >= 2 else None


@dataclass(frozen=True)
class Repair:
    text: str
    tokens: int  # tokens in the original text
    split: int  # glued tokens split into syllables
    dropped: int  # tokens that were no syllable and could not be split

    @property
    def changed(self) -> bool:
        return bool(self.split or self.dropped)

    def trust(self) -> float:
        """How much of the text can be trusted: a dropped token counts as lost, a split one as half lost."""
        if not self.tokens:
            return 1.0
        return max(0.0, (self.tokens - self.dropped - 0.5 * self.split) / self.tokens)


_WORD = re.compile(r"[^\W_]+")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([,.!?;:…)])")


def repair(text: str) -> Repair:
    """Recognised text with glued syllables split and unsplittable non-syllables dropped; all else kept as it is."""
    counts = {"tokens": 0, "split": 0, "dropped": 0}

    def fix(match: re.Match) -> str:
        token = match.group()
        counts["tokens"] += 1
        if keeps_as_is(token):
            return token
        if parts := split_syllables(token):
            counts["split"] += 1
            return " ".join(parts)
        counts["dropped"] += 1
        return ""

    fixed = _WORD.sub(fix, unicodedata.normalize("NFC", text))
    if counts["dropped"]:
        fixed = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", " ".join(fixed.split()))
    return Repair(fixed, **counts)


def decompose(token: str) -> tuple[str, str, str] | None:
    """(onset, rhyme without its tone, tone mark or '') of a valid syllable, the longest onset first; else None.
    'giếng' -> ('g', 'iêng', ACUTE); 'quốc' -> ('qu', 'ôc', ACUTE); 'nguoi' -> ('ng', 'uoi', '')."""
    token = unicodedata.normalize("NFC", token.lower())
    if not is_syllable(token):
        return None
    tones = _tone_marks(token)
    plain = _toneless(token)
    if not _MARKED.search(token):
        folded = _folded_readings()
        onset, rhyme = next((o, r) for o, r in _split_onset(plain, tuple(folded)) if r in folded[o])
        return onset, rhyme, ""
    onset, rhyme = next((o, r) for o, r in _split_onset(plain, ONSETS)
                        if r in _rhymes_for(o) and _spelled_right(o, r))
    return onset, rhyme, tones[0] if tones else ""
