"""Repair and escape hatches available at every step: repeat, stop, human, not understood."""
from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ActiveLoop, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from common import office_hours
from common.text import normalize_phone
from common.wording import clock_text, short_day

from . import forms
from .forms import CityAction
from .privacy import forget

HANDOFF_CONTEXT = 10
GATEWAY_HANDOFF = "handoff"  # the gateway queues the conversation for an officer (bot/console)
# What the assistant knows that an officer may need, when the citizen has said it.
KNOWN = ("user_name", "user_phone", "category", "address", "description", "facility", "service", "visit_day")
# What a new session (after two hours away) remembers: who the citizen is, not a half-finished form.
REMEMBERED = ("user_name", "user_phone")


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        kept = {name: tracker.get_slot(name) for name in REMEMBERED if tracker.get_slot(name)}
        # A phone call brings the caller's number (the gateway's metadata): the number to call back,
        # shown in every summary, where the citizen can still change it.
        caller = normalize_phone(str((tracker.get_slot("session_started_metadata") or {}).get("caller") or ""))
        if caller and "user_phone" not in kept:
            kept["user_phone"] = caller
        return [SessionStarted(), *(SlotSet(name, value) for name, value in kept.items()),
                ActionExecuted("action_listen")]


def _last_bot_turn(tracker: Tracker) -> list[dict]:
    """The bot messages sent between the two latest user messages."""
    events = tracker.events
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    if len(users) < 2:
        return []
    return [e for e in events[users[-2] + 1:users[-1]] if e.get("event") == "bot"]


class ActionRepeat(Action):
    def name(self) -> str:
        return "action_repeat"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        if tracker.active_loop_name:
            return []  # the form asks its question again right after
        messages = _last_bot_turn(tracker)
        if not messages:
            dispatcher.utter_message(response="utter_nothing_to_repeat")
        for message in messages:
            data = message.get("data") or {}
            dispatcher.utter_message(text=message.get("text"), buttons=data.get("buttons") or [],
                                     image=data.get("image"))
        return []


def _hand_off(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str) -> None:
    """Tell the citizen when an officer will answer, and ask the gateway to queue the conversation with the last
    messages and what the assistant knows."""
    by_phone = tracker.sender_id.startswith("call-")
    if office_hours.is_open():
        dispatcher.utter_message(response="utter_handoff_hold" if by_phone else "utter_handoff")
    else:
        opening = office_hours.next_opening()
        dispatcher.utter_message(response="utter_handoff_call_back" if by_phone else "utter_handoff_later",
                                 opening=f"{clock_text(opening)} {short_day(opening.date())}")
    recent = [{"from": e["event"], "text": e.get("text")} for e in tracker.events
              if e.get("event") in ("user", "bot") and e.get("text")][-HANDOFF_CONTEXT:]
    dispatcher.utter_message(json_message={GATEWAY_HANDOFF: {
        "reason": reason, "said": tracker.latest_message.get("text") or "", "form": tracker.active_loop_name,
        "known": {slot: tracker.get_slot(slot) for slot in KNOWN if tracker.get_slot(slot)}, "recent": recent}})


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        stuck = forms.last_response(tracker) == "utter_form_stuck"
        _hand_off(dispatcher, tracker, "stuck" if stuck else "asked")
        form = tracker.active_loop_name
        return [ActiveLoop(None), *forms.clear(form)] if form else []


class ActionFallback(Action):
    """Not understood: say so and show the menu; twice in a row, offer an officer."""

    def name(self) -> str:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        misses = 0
        for event in reversed(tracker.events):
            if event.get("event") == "user":
                if (event.get("parse_data") or {}).get("intent", {}).get("name") != "nlu_fallback":
                    break
                misses += 1
        dispatcher.utter_message(response="utter_offer_human" if misses >= 2 else "utter_default")
        return []


class ActionAnswerYesNo(CityAction):
    """A yes or no outside any form: it answers the question asked last (an officer offer, forgetting the
    citizen), or shows what the assistant can do."""

    def name(self) -> str:
        return "action_answer_yes_no"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        asked, yes = forms.last_response(tracker), tracker.latest_message["intent"]["name"] == "affirm"
        if asked == "utter_offer_human" and yes:
            _hand_off(dispatcher, tracker, "not_understood")
        elif asked == "utter_ask_forget":
            if yes:
                return await forget(dispatcher, tracker)
            dispatcher.utter_message(response="utter_not_forgotten")
        else:
            dispatcher.utter_message(response="utter_help")
        return []


class ActionStop(Action):
    """Leave the current form cleanly: nothing is sent, its answers are forgotten."""

    def name(self) -> str:
        return "action_stop"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        dispatcher.utter_message(response="utter_stopped")
        form = tracker.active_loop_name
        return [ActiveLoop(None), *forms.clear(form)] if form else []
