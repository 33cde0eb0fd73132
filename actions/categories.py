"""Which kind of problem a citizen's own words describe when the NLU found no category in them:
'cây phượng bật gốc nằm ngang đường' -> cay_xanh. The NLU's lookup tables know set phrases ('cây đổ'); elders
describe ('cây to ngã chắn lối'), so single telling words are counted here."""
from __future__ import annotations

from common.text import same_word, words

# Words that tell one kind of problem. Street words ('đường', 'kiệt') and 'nước' alone tell none.
CATEGORY_WORDS = {
    "rac_thai": ("rác", "hôi", "thối", "thúi", "xác chết", "ruồi", "vệ sinh"),
    "duong_hu_hong": ("ổ gà", "ổ voi", "lún", "nứt", "sụt", "lở", "nắp cống", "mặt đường"),
    "ngap_ung": ("ngập", "lụt", "úng", "cống", "mương", "thoát nước", "nước thải"),
    "den_duong": ("đèn", "tối om", "tối thui", "chiếu sáng"),
    "cay_xanh": ("cây", "cành", "nhánh", "bật gốc", "trốc gốc"),
    "lan_chiem_via_he": ("vỉa hè", "lề đường", "lấn", "chiếm", "buôn bán", "bán hàng", "đậu xe", "đỗ xe"),
    "tieng_on": ("ồn", "karaoke", "loa", "hát hò", "nhậu"),
    "cap_nuoc": ("mất nước", "cúp nước", "cắt nước", "ống nước", "vỡ ống", "bể ống", "nước đục", "nước yếu",
                 "rò rỉ"),
}


def _count(said: tuple[str, ...], phrase: tuple[str, ...]) -> int:
    return sum(all(map(same_word, said[i:i + len(phrase)], phrase)) for i in range(len(said) - len(phrase) + 1))


def guess_category(text: str) -> str | None:
    """The one category whose telling words occur most often, or None when none or several tie."""
    said = words(text)
    scores = {code: sum(_count(said, words(phrase)) for phrase in phrases) for code, phrases in CATEGORY_WORDS.items()}
    best = max(scores.values())
    winners = [code for code, score in scores.items() if score == best]
    return winners[0] if best and len(winners) == 1 else None
