"""Guessing the kind of problem from a citizen's own words."""
from __future__ import annotations

import pytest

from actions.categories import guess_category


@pytest.mark.parametrize(("text", "code"), [
    ("cây phượng bật gốc nằm ngang đường", "cay_xanh"),
    ("chừ ngoài đường Trần Hưng Đạo có cây to ngã chắn hết lối đi", "cay_xanh"),
    ("cay to nga chan duong", "cay_xanh"),
    ("đường kiệt tối om cả tháng nay", "den_duong"),
    ("nhà bên cạnh hát karaoke tới khuya", "tieng_on"),
    ("mấy bữa ni cúp nước hoài", "cap_nuoc"),
    ("người ta bán hàng lấn hết vỉa hè", "lan_chiem_via_he"),
    ("mưa xuống là ngập tới gối", "ngap_ung"),
    ("đầu kiệt rác chất đống, ruồi bu", "rac_thai"),
    ("xe tải chạy riết nên mặt đường lún một hố to", "duong_hu_hong"),
])
def test_telling_words_pick_the_category(text, code):
    assert guess_category(text) == code


@pytest.mark.parametrize("text", [
    "tui muốn phản ánh",
    "ở đường Lê Lợi",  # a street tells nothing
    "nước",
    "cày ruộng",  # 'cày' is not 'cây': typed with its own marks
    "mùi hôi từ cống bốc lên",  # rác or thoát nước: a tie, so ask
    "",
])
def test_words_that_tell_nothing_or_tie_pick_nothing(text):
    assert guess_category(text) is None
