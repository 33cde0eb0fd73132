"""Questions about public services the assistant does not handle get where to go, from a file the city edits."""
from __future__ import annotations

import dataclasses

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.public_services import ActionPublicService, directions
from tests.actions.conftest import tracker


@pytest.mark.parametrize(("question", "where"), [
    ("làm lại căn cước ở mô cháu", "Công an phường"),
    ("cccd het han roi lam sao", "Công an phường"),
    ("tiền điện tháng ni răng cao rứa", "1900 1909"),
    ("khi mo lanh luong huu", "1900 9068"),
    ("gia hạn thẻ BHYT ở mô", "1900 9068"),
    ("làm giấy khai sinh cho cháu nội", "một cửa"),
    ("tiền nước tháng ni tăng", "công ty cấp nước"),
    ("cho tui gặp tổ công nghệ số cộng đồng", "Tổ công nghệ số"),
])
async def test_each_service_is_sent_where_it_is_handled(city, question, where):
    d = CollectingDispatcher()
    assert await ActionPublicService().run(d, tracker(question, intent="other_service"), {}) == []
    [message] = d.messages
    assert where in message["text"] and message["text"].startswith("Dạ")
    assert [b["payload"] for b in message["buttons"]] == ["/ask_human", "/help"]


async def test_an_unknown_service_gets_the_city_hotline_from_the_settings(city, tmp_path):
    city.settings = dataclasses.replace(city.settings, city_hotline="0234 3 999 999")
    d = CollectingDispatcher()
    await ActionPublicService().run(d, tracker("xin giấy phép nuôi chó", intent="other_service"), {})
    assert "tổng đài 0234 3 999 999" in d.messages[0]["text"]


def test_the_city_can_replace_the_directions_without_training(tmp_path):
    own = tmp_path / "services.yml"
    own.write_text('fallback: "Dạ, bác gọi {hotline} ạ."\nservices:\n'
                   '  - words: [lương hưu]\n    text: "Dạ, bác ra bưu điện ạ."\n', encoding="utf-8")
    assert directions(own).answer("luong huu thang ni", "1022") == "Dạ, bác ra bưu điện ạ."
    assert directions(own).answer("đất đai", "1022") == "Dạ, bác gọi 1022 ạ."
