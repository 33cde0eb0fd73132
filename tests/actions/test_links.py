"""One citizen across channels as the actions see it: the gateway's `identity` metadata in, what the citizen is
told and what the gateway is asked to do out; visits booked from a linked account are the citizen's too."""
from __future__ import annotations

from datetime import timedelta

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.cancel import ActionMyAppointments
from actions.links import ActionNotifyVia, ActionShowLinks, ActionUnlink
from common.clock import local_now
from tests.actions.conftest import said, tracker

pytestmark = pytest.mark.clock  # also run at fixed instants (scripts/test)

LINKED = {"phone": "0905 *** 456", "channels": ["phone", "telegram"], "notify_via": None,
          "accounts": ["telegram:7", "call-CA1"]}


def with_identity(text: str, intent: str, identity: dict | None, entities=None, sender: str = "telegram:7"):
    linked = tracker(text, intent=intent, entities=entities, sender=sender)
    if identity is not None:
        linked.latest_message["metadata"] = {"identity": identity}
    return linked


async def test_the_links_are_shown_with_the_masked_number_and_what_can_be_done():
    d = CollectingDispatcher()
    assert await ActionShowLinks().run(d, with_identity("liên kết của tui", "my_links", LINKED), {}) == []
    [message] = d.messages
    assert message["response"] == "utter_links" and message["phone"] == "0905 *** 456"
    assert message["channels"] == "tổng đài, Telegram" and message["notify_channel"] == "kênh bác dùng gần nhất"
    assert [b["payload"] for b in message["buttons"]] == ['/notify_via{"channel":"telegram"}', "/unlink"]


async def test_an_unlinked_chat_is_told_how_to_link_and_nothing_is_undone():
    for action in (ActionShowLinks(), ActionUnlink()):
        d = CollectingDispatcher()
        await action.run(d, with_identity("bỏ liên kết", "unlink", None), {})
        assert said(d) == ["utter_no_links"]


async def test_unlinking_asks_the_gateway_to_undo_the_link():
    d = CollectingDispatcher()
    await ActionUnlink().run(d, with_identity("bỏ liên kết", "unlink", LINKED), {})
    assert said(d)[0] == "utter_unlinked" and d.messages[1]["custom"] == {"unlink": {}}


@pytest.mark.parametrize(("channel", "told", "custom"), [
    ("telegram", "utter_notify_via", {"notify_via": "telegram"}),
    ("zalo", "utter_notify_via_unlinked", None),  # no Zalo linked to this number
    (None, "utter_notify_via_which", None),
])
async def test_notifications_go_where_the_citizen_chose_among_linked_channels(channel, told, custom):
    d = CollectingDispatcher()
    entities = [("channel", channel)] if channel else []
    await ActionNotifyVia().run(d, with_identity("báo qua đó", "notify_via", LINKED, entities), {})
    assert said(d)[0] == told
    assert (d.messages[1]["custom"] if len(d.messages) > 1 else None) == custom


async def test_visits_booked_from_a_linked_account_are_listed(city):
    start = local_now()
    slot = (await city.fhir.free_slots("bv-trung-uong-hue-tim-mach", start, start + timedelta(days=14)))[0]
    code = (await city.fhir.book(slot["id"], "Nguyễn Văn Hải", "0905123456", "call-CA1"))["id"]
    alone, linked = CollectingDispatcher(), CollectingDispatcher()
    await ActionMyAppointments().run(alone, with_identity("lịch khám của tui", "my_appointments", None), {})
    await ActionMyAppointments().run(linked, with_identity("lịch khám của tui", "my_appointments", LINKED), {})
    assert said(alone) == ["utter_no_appointments"]
    assert said(linked) == ["utter_my_appointments"]
    assert f"(mã LK {code[3:6]} {code[6:]})" in linked.messages[0]["lines"]
