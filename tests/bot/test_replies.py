"""What the gateway remembers of the assistant's replies, shared by every gateway on one database, and how a spoken
answer picks a button."""
from __future__ import annotations

from datetime import datetime

import pytest

from bot.replies import LastReplies, ReplyMemory, text_key
from common.database import create_engine

YES_NO = [{"text": "Gửi phản ánh này nhé bác?",
           "buttons": [{"title": "Gửi đi", "payload": "/affirm"}, {"title": "Sửa lại", "payload": "/deny"},
                       {"title": "Thôi, không gửi", "payload": "/stop"}]}]
WARDS = [{"text": "Bác ở phường nào ạ?", "buttons": [
    {"title": "Vỹ Dạ", "payload": "/inform{\"ward\": \"vy_da\"}"}, {"title": "Phú Hội", "payload": "/x"}]}]


@pytest.fixture
async def gateways(database_url):
    """Two gateways' memories on one database."""
    engines = [create_engine(database_url), create_engine(database_url)]
    memories = [ReplyMemory(engine) for engine in engines]
    await memories[0].create_schema()
    await memories[1].create_schema()  # a second gateway starting finds the tables there
    yield memories
    for engine in engines:
        await engine.dispose()


def test_a_spoken_answer_picks_the_button_it_means():
    last = LastReplies(YES_NO)
    assert last.answer("dạ có") == "/affirm"
    assert last.answer("khong") == "khong"  # the NLU's deny: "what should change?"
    assert last.answer("số hai") == "/deny"
    assert last.answer("sua lai") == "/deny"
    assert last.answer("ở đường Lê Lợi") == "ở đường Lê Lợi"  # not a choice: the NLU reads it
    assert LastReplies([]).answer("có") == "có"  # nothing asked


def test_a_misheard_answer_becomes_the_button_it_sounds_like():
    last = LastReplies(WARDS)
    assert last.titles() == ["Vỹ Dạ", "Phú Hội"]
    assert last.understood("ví à") == "Vỹ Dạ"  # then answer() turns the title into its payload
    assert last.answer(last.understood("ví à")) == '/inform{"ward": "vy_da"}'
    assert last.understood("phú hội") == "phú hội"  # the words name it: match_choice's, as said
    assert last.understood("rồi quá", ["phú hồi"]) == "Phú Hội"  # an engine's alternative reading
    assert last.understood("tui muốn gặp cán bộ") == "tui muốn gặp cán bộ"
    assert LastReplies([]).understood("ví à") == "ví à"  # nothing asked


async def test_what_one_gateway_said_another_reads(gateways):
    first, second = gateways
    replies = await first.remember("web-a", [{"text": "một", "buttons": []}, *YES_NO])
    assert [r["speech"] for r in replies] == [text_key("một"), text_key(YES_NO[0]["text"])]
    assert (await second.last("web-a")).answer("dạ có") == "/affirm"
    assert await second.text(text_key("một")) == "một"
    await second.remember("web-a", WARDS)  # the next turn went to the other gateway
    assert (await first.last("web-a")).titles() == ["Vỹ Dạ", "Phú Hội"]
    assert (await first.last("web-b")).messages == []  # nothing asked of this sender
    await second.remember("web-b", [{"text": "một", "buttons": []}])  # the same fixed text said to another
    await first.forget("web-a")  # asked to be forgotten: what was said to them goes too
    assert (await second.last("web-a")).messages == []
    assert await second.text(text_key(YES_NO[0]["text"])) is None
    assert await second.text(text_key("một")) == "một"  # still said to web-b


@pytest.mark.clock
async def test_old_replies_are_not_kept(gateways, clock_at):
    first, second = gateways
    clock_at(datetime(2026, 12, 7, 8, 0))
    await first.remember("web-old", [{"text": "cũ", "buttons": []}])
    clock_at(datetime(2026, 12, 10, 8, 0))  # three days later, another gateway prunes as it writes
    await second.remember("web-new", [{"text": "mới", "buttons": []}])
    assert await first.text(text_key("cũ")) is None
    assert (await first.last("web-old")).messages == []
    assert await first.text(text_key("mới")) == "mới"
