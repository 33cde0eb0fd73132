"""One citizen across channels, as the citizen sees it: which channels are linked to their number, undoing the
link ("bỏ liên kết"), and where notifications go ("báo cho tui qua Zalo"). The gateway links channels (only by a
number a channel vouches for: bot/identity.py), tells the actions in the message metadata, and carries out what
the actions ask of it in a message addressed to it."""
from __future__ import annotations

from rasa_sdk import Action

from .forms import entity, identity, payload_button

CHANNEL_NAMES = {"telegram": "Telegram", "zalo": "Zalo", "phone": "tổng đài", "web": "trang web"}
PUSHED = ("telegram", "zalo")  # the channels the assistant can write to unasked
GATEWAY_UNLINK = "unlink"
GATEWAY_NOTIFY_VIA = "notify_via"


def _names(channels: list[str]) -> str:
    return ", ".join(CHANNEL_NAMES.get(c, c) for c in channels)


class ActionShowLinks(Action):
    def name(self) -> str:
        return "action_show_links"

    async def run(self, dispatcher, tracker, domain) -> list:
        linked = identity(tracker)
        if linked is None:
            dispatcher.utter_message(response="utter_no_links")
            return []
        via = linked.get("notify_via")
        buttons = [payload_button(f"Báo qua {CHANNEL_NAMES[c]}", "notify_via", channel=c)
                   for c in linked["channels"] if c in PUSHED and c != via]
        buttons.append(payload_button("Bỏ liên kết", "unlink"))
        dispatcher.utter_message(
            response="utter_links", phone=linked["phone"], channels=_names(linked["channels"]),
            notify_channel=CHANNEL_NAMES[via] if via else "kênh bác dùng gần nhất", buttons=buttons)
        return []


class ActionUnlink(Action):
    def name(self) -> str:
        return "action_unlink"

    async def run(self, dispatcher, tracker, domain) -> list:
        if identity(tracker) is None:
            dispatcher.utter_message(response="utter_no_links")
            return []
        dispatcher.utter_message(response="utter_unlinked")
        dispatcher.utter_message(json_message={GATEWAY_UNLINK: {}})
        return []


class ActionNotifyVia(Action):
    def name(self) -> str:
        return "action_notify_via"

    async def run(self, dispatcher, tracker, domain) -> list:
        channel = (entity(tracker, "channel") or "").lower()
        if channel not in PUSHED:
            dispatcher.utter_message(response="utter_notify_via_which",
                                     buttons=[payload_button(f"Qua {CHANNEL_NAMES[c]}", "notify_via", channel=c)
                                              for c in PUSHED])
            return []
        linked = identity(tracker)
        if linked is None or channel not in linked["channels"]:
            dispatcher.utter_message(response="utter_notify_via_unlinked", channel_name=CHANNEL_NAMES[channel])
            return []
        dispatcher.utter_message(response="utter_notify_via", channel_name=CHANNEL_NAMES[channel])
        dispatcher.utter_message(json_message={GATEWAY_NOTIFY_VIA: channel})
        return []
