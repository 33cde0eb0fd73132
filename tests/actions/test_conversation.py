from datetime import datetime

import pytest
from rasa_sdk.events import ActionExecuted, ActiveLoop, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import forms
from actions.conversation import (
    ActionAnswerYesNo,
    ActionFallback,
    ActionHandoff,
    ActionRepeat,
    ActionSessionStart,
    ActionStop,
    _hand_off,
)
from tests.actions.conftest import said, tracker

pytestmark = pytest.mark.clock
TUESDAY_MORNING = datetime(2026, 12, 8, 9, 0)


def user(text, intent="inform"):
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def bot(text, buttons=None):
    return {"event": "bot", "text": text, "data": {"buttons": buttons}}


async def test_repeat_sends_the_last_answer_again():
    human = [{"title": "Gặp cán bộ", "payload": "/ask_human"}]
    events = [user("xin chào", "greet"), bot("Dạ, cháu chào bác ạ.", human), bot("Bác cần chi ạ?"),
              user("nói lại", "repeat")]
    d = CollectingDispatcher()
    assert await ActionRepeat().run(d, tracker("nói lại", "repeat", events=events), {}) == []
    assert [(m["text"], m["buttons"]) for m in d.messages] == [
        ("Dạ, cháu chào bác ạ.", human), ("Bác cần chi ạ?", [])]


async def test_repeat_with_nothing_said_yet_and_inside_a_form():
    d = CollectingDispatcher()
    await ActionRepeat().run(d, tracker("nói lại", "repeat", events=[user("nói lại", "repeat")]), {})
    assert said(d) == ["utter_nothing_to_repeat"]
    d = CollectingDispatcher()
    assert await ActionRepeat().run(d, tracker("nói lại", "repeat", active_loop="report_form"), {}) == []
    assert d.messages == []  # the form asks its question again itself


async def test_two_misunderstandings_in_a_row_offer_a_human():
    once = [user("abc", "greet"), bot("..."), user("xyz qwe", "nlu_fallback")]
    d = CollectingDispatcher()
    assert await ActionFallback().run(d, tracker(events=once), {}) == []
    assert said(d) == ["utter_default"]
    twice = once + [bot("..."), user("asdf", "nlu_fallback")]
    d = CollectingDispatcher()
    assert await ActionFallback().run(d, tracker(events=twice), {}) == []
    assert said(d) == ["utter_offer_human"]


async def test_yes_to_the_offer_hands_off_and_other_yes_no_show_the_menu(city, clock_at):
    clock_at(TUESDAY_MORNING)
    offer = {"event": "bot", "text": "...", "metadata": {"utter_action": "utter_offer_human"}}
    d = CollectingDispatcher()
    await ActionAnswerYesNo().run(d, tracker("dạ có", "affirm", events=[offer, user("dạ có", "affirm")]), {})
    assert said(d) == ["utter_handoff", None]
    assert d.messages[1]["custom"]["handoff"]["reason"] == "not_understood"
    for intent, events in (("deny", [offer]), ("affirm", [bot("Dạ, cháu chào bác ạ.")])):
        d = CollectingDispatcher()
        await ActionAnswerYesNo().run(d, tracker("x", intent, events=events + [user("x", intent)]), {})
        assert said(d) == ["utter_help"]


async def test_handoff_queues_the_conversation_with_what_is_known_and_leaves_the_form(clock_at):
    clock_at(TUESDAY_MORNING)
    events = [user("phản ánh rác", "report_issue"), bot("Dạ, bác muốn phản ánh việc chi ạ?"),
              user("gặp cán bộ", "ask_human")]
    d = CollectingDispatcher()
    result = await ActionHandoff().run(d, tracker("gặp cán bộ", "ask_human", events=events, active_loop="report_form",
                                                  slots={"category": "rac_thai", "user_phone": "0905123456"}), {})
    assert said(d) == ["utter_handoff", None]
    assert result == [ActiveLoop(None), *forms.clear("report_form")]
    assert d.messages[1]["custom"] == {"handoff": {
        "reason": "asked", "said": "gặp cán bộ", "form": "report_form",
        "known": {"category": "rac_thai", "user_phone": "0905123456"},
        "recent": [{"from": "user", "text": "phản ánh rác"},
                   {"from": "bot", "text": "Dạ, bác muốn phản ánh việc chi ạ?"},
                   {"from": "user", "text": "gặp cán bộ"}]}}


@pytest.mark.parametrize("moment, sender, response, opening", [
    (datetime(2026, 12, 8, 9, 0), "web-test-0001", "utter_handoff", None),
    (datetime(2026, 12, 8, 12, 0), "web-test-0001", "utter_handoff_later", "1 giờ 30 chiều Thứ Ba 8/12"),
    (datetime(2026, 12, 11, 17, 30), "web-test-0001", "utter_handoff_later", "7 giờ 30 sáng Thứ Hai 14/12"),
    (datetime(2027, 4, 29, 18, 0), "web-test-0001", "utter_handoff_later", "7 giờ 30 sáng Thứ Hai 3/5"),
    (datetime(2026, 12, 8, 9, 0), "call-CA1", "utter_handoff_hold", None),
    (datetime(2026, 12, 12, 9, 0), "call-CA1", "utter_handoff_call_back", "7 giờ 30 sáng Thứ Hai 14/12"),
])
def test_the_citizen_is_told_when_an_officer_answers(clock_at, moment, sender, response, opening):
    clock_at(moment)
    d = CollectingDispatcher()
    _hand_off(d, tracker("gặp cán bộ", "ask_human", sender=sender), "asked")
    assert d.messages[0]["response"] == response
    assert d.messages[0].get("opening") == opening


async def test_stop_leaves_the_form_and_forgets_its_answers():
    d = CollectingDispatcher()
    result = await ActionStop().run(d, tracker("thôi", "stop", active_loop="book_form"), {})
    assert said(d) == ["utter_stopped"]
    assert result == [ActiveLoop(None), *forms.clear("book_form")]


async def test_a_new_session_remembers_the_citizen_not_the_half_finished_form():
    old = tracker(slots={"user_name": "Hồ Thị Tư", "user_phone": "0905123456", "category": "rac_thai",
                         "requested_slot": "address"})
    assert await ActionSessionStart().run(CollectingDispatcher(), old, {}) == [
        SessionStarted(), SlotSet("user_name", "Hồ Thị Tư"), SlotSet("user_phone", "0905123456"),
        ActionExecuted("action_listen")]


async def test_a_phone_call_brings_the_callers_number_unless_one_is_remembered():
    call = tracker(slots={"session_started_metadata": {"caller": "+84 905 123 456"}})
    assert await ActionSessionStart().run(CollectingDispatcher(), call, {}) == [
        SessionStarted(), SlotSet("user_phone", "0905123456"), ActionExecuted("action_listen")]
    known = tracker(slots={"session_started_metadata": {"caller": "+84905123456"}, "user_phone": "0914567890"})
    assert (await ActionSessionStart().run(CollectingDispatcher(), known, {}))[1] == SlotSet("user_phone", "0914567890")
    hidden = tracker(slots={"session_started_metadata": {"caller": "anonymous"}})
    assert await ActionSessionStart().run(CollectingDispatcher(), hidden, {}) == [
        SessionStarted(), ActionExecuted("action_listen")]


def _asked_to_forget(answer_intent: str, sender: str = "web-test-0001"):
    asked = {"event": "bot", "text": "Dạ, bác muốn cháu xóa…", "metadata": {"utter_action": "utter_ask_forget"}}
    return tracker("xóa thông tin", answer_intent, sender=sender,
                   events=[user("xóa thông tin của tui", "forget_me"), asked, user("xóa thông tin", answer_intent)])


async def test_a_citizen_is_forgotten_after_saying_yes(city):
    sender = "web-test-0001"
    ours = f"{city.settings.gateway_url}/uploads/{'b2' * 16}.jpg"
    filed = await city.open311.create({"service_code": "rac_thai", "address_string": "12 Lê Lợi", "phone": "0905123456",
                                       "description": "Rác đổ ba ngày", "account_id": sender, "media_url": ours}, "k-1")
    await city.store.keep(sender, "k-2", {"service_code": "cay_xanh", "address_string": "kiệt 3", "phone": "0905123456",
                                          "description": "Cây đổ", "media_url": ours.replace("b2", "c3")})

    d = CollectingDispatcher()
    assert await ActionAnswerYesNo().run(d, _asked_to_forget("affirm"), {}) == [SlotSet("forget_me", True)]
    assert said(d) == ["utter_forgotten", None]
    assert d.messages[1]["custom"] == {"forget": {"keep_photos": sorted([ours, ours.replace("b2", "c3")])}}
    report = await city.open311.get(filed["service_request_id"])
    assert report["description"] == "Rác đổ ba ngày"
    kept = await city.store.unsent(sender)
    assert "phone" not in kept[0].report and kept[0].report["description"] == "Cây đổ"  # still to be sent


async def test_no_forgets_nothing_and_a_city_outage_forgets_nothing_yet(city_down):
    d = CollectingDispatcher()
    assert await ActionAnswerYesNo().run(d, _asked_to_forget("deny"), {}) == []
    assert said(d) == ["utter_not_forgotten"]
    d = CollectingDispatcher()
    assert await ActionAnswerYesNo().run(d, _asked_to_forget("affirm"), {}) == []
    assert said(d) == ["utter_city_down"]
