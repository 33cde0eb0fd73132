"""What the forms share: the slots each owns, reading the latest message, and noticing another task asked for."""
from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod

from rasa_sdk import Action, FormValidationAction
from rasa_sdk.events import ActiveLoop, SlotSet

from common.text import fold

from .clients.http import CityRefused, CityUnavailable

log = logging.getLogger(__name__)

FORM_SLOTS = {
    "report_form": ["category", "place_hint", "address", "lat", "long", "description", "photo", "report_phone",
                    "report_confirmed"],
    "book_form": ["facility", "service", "visit_day", "day_part", "slot_id", "patient_name",
                  "patient_phone", "booking_confirmed"],
    "cancel_form": ["appointment_id", "cancel_confirmed"],
}


# The tasks a citizen can ask for, the form each runs in, and how the assistant names it.
TASK_FORMS = {"report_issue": "report_form", "check_status": None, "book_clinic": "book_form",
              "cancel_appointment": "cancel_form", "forget_me": None}
TASK_NAMES = {"report_form": "phản ánh", "book_form": "đặt lịch khám", "cancel_form": "hủy lịch khám"}
# Only a typed request the NLU is this sure of is taken for another task, not for an answer.
OTHER_TASK_CONFIDENCE = 0.9
STUCK_AFTER = 2


class TaskFormValidation(FormValidationAction, ABC):
    """A form's validation that notices when the citizen asks for another task instead of answering:
    the answer is not taken, and the citizen is told how to leave this task first.
    Abstract, so the action server registers only the forms' own validations."""

    form = ""

    @abstractmethod
    def name(self) -> str: ...

    async def run(self, dispatcher, tracker, domain):
        latest = tracker.latest_message.get("intent") or {}
        asked_for = latest.get("name")
        typed = not (tracker.latest_message.get("text") or "").startswith("/")
        if (typed and tracker.get_slot("requested_slot") and asked_for in TASK_FORMS
                and TASK_FORMS[asked_for] != self.form and latest.get("confidence", 0) >= OTHER_TASK_CONFIDENCE):
            dispatcher.utter_message(response="utter_other_task_in_form", task=TASK_NAMES[self.form])
            return [SlotSet(name, None) for name in tracker.slots_to_validate()]
        try:
            events = await super().run(dispatcher, tracker, domain)
        except (CityUnavailable, CityRefused) as failure:
            return city_down(dispatcher, tracker, failure)
        return events + self._count_miss(dispatcher, tracker, events)

    def _count_miss(self, dispatcher, tracker, events: list[dict]) -> list[SlotSet]:
        """Two unusable answers in a row to the same kind of question: offer the ways out."""
        asked = tracker.get_slot("requested_slot")
        # Only an answer to the question counts ("nói lại" or "thôi" is none). Emitting nothing then matters:
        # any slot set here would tell Rasa the form used the message, and the stop and repeat rules never run.
        if not asked or asked not in tracker.slots_to_validate() or asked.endswith("_confirmed"):
            return []
        # An answer that moves the form on counts, even if it is not the one asked for ("chiều" for a time).
        answered = any(e.get("name") in FORM_SLOTS[self.form] and e.get("value") is not None for e in events)
        misses = 0 if answered else int(tracker.get_slot("form_misses") or 0) + 1
        if misses >= STUCK_AFTER:
            dispatcher.utter_message(response="utter_form_stuck")
            misses = 0
        return [SlotSet("form_misses", misses)]


class CityAction(Action, ABC):
    """An action that asks the city's services. An outage becomes the polite "city is busy" answer, never an error
    of the action server; a task in progress is left, so the citizen can go on (try later, or ask for a person)."""

    form: str | None = None  # the task whose answers an outage forgets, when no form is active any more

    @abstractmethod
    def name(self) -> str: ...

    @abstractmethod
    async def act(self, dispatcher, tracker, domain) -> list: ...

    async def run(self, dispatcher, tracker, domain) -> list:
        try:
            return await self.act(dispatcher, tracker, domain)
        except (CityUnavailable, CityRefused) as failure:
            return city_down(dispatcher, tracker, failure, self.form)


def city_down(dispatcher, tracker, failure: Exception, form: str | None = None) -> list:
    """Say the city is busy, leave the active form and forget its answers (or those of `form`)."""
    active = tracker.active_loop_name
    log.warning("city services failed during %s: %s", active or form or "a turn", failure)
    dispatcher.utter_message(response="utter_city_down")
    form = active or form
    # A form left here ends; its closing action then finds nothing to do (ActionBookAppointment…).
    return [*([ActiveLoop(None)] if active else []), *(clear(form) if form in FORM_SLOTS else [])]


def clear(form: str) -> list[SlotSet]:
    return [SlotSet(name, None) for name in FORM_SLOTS[form] + ["requested_slot", "form_misses"]]


MAX_ACCOUNTS = 30


def identity(tracker) -> dict | None:
    """The sender's links to one citizen, as the gateway found them (bot/identity.py); None when not linked."""
    found = (tracker.latest_message.get("metadata") or {}).get("identity")
    return found if isinstance(found, dict) else None


def accounts(tracker) -> list[str]:
    """The citizen's chat accounts: this one, then those the gateway found linked to it by a phone number a
    channel vouched for (bot/identity.py), whose reports and visits are theirs too."""
    linked = (identity(tracker) or {}).get("accounts")
    if not isinstance(linked, list):
        return [tracker.sender_id]
    others = [a for a in linked if isinstance(a, str) and a and a != tracker.sender_id]
    return [tracker.sender_id, *others][:MAX_ACCOUNTS]


def entity(tracker, name: str) -> str | None:
    """The last value of an entity in the latest user message."""
    values = [e.get("value") for e in tracker.latest_message.get("entities", []) if e.get("entity") == name]
    return str(values[-1]) if values and values[-1] is not None else None


def intent(tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def match_label(text: str, labels: dict[str, str]) -> str | None:
    """The code whose label the text repeats or is part of ('tim mach' -> 'tim-mach'), if any."""
    folded = fold(text)
    if len(folded) < 3:
        return None
    return next((code for code, label in labels.items() if fold(label) in folded or folded in fold(label)), None)


def choice(tracker, entity_name: str, value, labels: dict[str, str]) -> str | None:
    """The code the answer picks: its entity, a button's code, or a label typed back."""
    code = entity(tracker, entity_name) or value
    return code if code in labels else match_label(str(value or ""), labels)


def last_response(tracker) -> str | None:
    """The template name of the assistant's last message (what the user is answering)."""
    last_bot = next((e for e in reversed(tracker.events) if e.get("event") == "bot"), {})
    return (last_bot.get("metadata") or {}).get("utter_action")


def payload_button(title: str, intent_name: str, **entities) -> dict:
    """A button whose payload sets entities, e.g. /inform{"category":"rac_thai"}."""
    suffix = json.dumps(entities, ensure_ascii=False, separators=(",", ":")) if entities else ""
    return {"title": title, "payload": f"/{intent_name}{suffix}"}
