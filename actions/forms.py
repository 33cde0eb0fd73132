"""Slot names each form owns, so stopping or finishing a form clears exactly those."""
from __future__ import annotations

import json

from rasa_sdk.events import SlotSet

from common.text import fold

FORM_SLOTS = {
    "report_form": ["category", "address", "lat", "long", "description", "photo", "report_phone",
                    "report_confirmed"],
    "book_form": ["facility", "service", "visit_day", "day_part", "slot_id", "patient_name",
                  "patient_phone", "booking_confirmed"],
    "cancel_form": ["appointment_id", "cancel_confirmed"],
}


def clear(form: str) -> list[SlotSet]:
    return [SlotSet(name, None) for name in FORM_SLOTS[form]] + [SlotSet("requested_slot", None)]


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
