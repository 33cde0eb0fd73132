"""What the gateway remembers of the assistant's replies, and how a spoken answer picks a button."""
from __future__ import annotations

from bot.replies import ReplyMemory, text_key

YES_NO = [{"text": "Gửi phản ánh này nhé bác?",
           "buttons": [{"title": "Gửi đi", "payload": "/affirm"}, {"title": "Sửa lại", "payload": "/deny"},
                       {"title": "Thôi, không gửi", "payload": "/stop"}]}]


def test_a_spoken_answer_picks_the_button_it_means():
    memory = ReplyMemory()
    memory.remember("web-a", YES_NO)
    assert memory.answer("web-a", "dạ có") == "/affirm"
    assert memory.answer("web-a", "khong") == "khong"  # the NLU's deny: "what should change?"
    assert memory.answer("web-a", "số hai") == "/deny"
    assert memory.answer("web-a", "sua lai") == "/deny"
    assert memory.answer("web-a", "ở đường Lê Lợi") == "ở đường Lê Lợi"  # not a choice: the NLU reads it
    assert memory.answer("web-b", "có") == "có"  # nothing asked of this sender


def test_a_misheard_answer_becomes_the_button_it_sounds_like():
    memory = ReplyMemory()
    memory.remember("call-a", [{"text": "Bác ở phường nào ạ?", "buttons": [
        {"title": "Vỹ Dạ", "payload": "/inform{\"ward\": \"vy_da\"}"}, {"title": "Phú Hội", "payload": "/x"}]}])
    assert memory.titles("call-a") == ["Vỹ Dạ", "Phú Hội"]
    assert memory.understood("call-a", "ví à") == "Vỹ Dạ"  # then answer() turns the title into its payload
    assert memory.answer("call-a", memory.understood("call-a", "ví à")) == '/inform{"ward": "vy_da"}'
    assert memory.understood("call-a", "phú hội") == "phú hội"  # the words name it: match_choice's, as said
    assert memory.understood("call-a", "rồi quá", ["phú hồi"]) == "Phú Hội"  # an engine's alternative reading
    assert memory.understood("call-a", "tui muốn gặp cán bộ") == "tui muốn gặp cán bộ"
    assert memory.understood("call-b", "ví à") == "ví à"  # nothing asked of this sender


def test_replies_get_a_speech_key_and_memory_is_bounded():
    memory = ReplyMemory(senders=2, texts=2)
    replies = memory.remember("web-a", [{"text": "một", "buttons": []}, {"text": "hai", "buttons": []}])
    assert [r["speech"] for r in replies] == [text_key("một"), text_key("hai")]
    assert memory.text(text_key("hai")) == "hai"
    memory.remember("web-b", [{"text": "ba", "buttons": []}])
    assert memory.text(text_key("một")) is None  # the oldest text made room
