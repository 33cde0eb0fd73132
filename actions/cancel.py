"""A citizen's clinic visits: listing the upcoming ones ("lịch khám của tui"), and cancelling one: pick, confirm,
cancel. Visits booked from any of the citizen's linked accounts count."""
from __future__ import annotations

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, SlotSet

from common.clock import local_now
from common.text import booking_code_in
from common.wording import spoken_code, when_text

from . import forms
from .forms import CityAction, TaskFormValidation, accounts, entity, intent, payload_button
from .services import services


async def _upcoming(tracker: Tracker) -> list[dict]:
    """Upcoming visits booked from any of the citizen's accounts, soonest first."""
    fhir, since = (await services()).fhir, local_now()
    found = await asyncio.gather(*(fhir.appointments_of(account, since) for account in accounts(tracker)))
    unique = {appointment["id"]: appointment for booked in found for appointment in booked}
    return sorted(unique.values(), key=lambda appointment: appointment["start"])


def _label(appointment: dict) -> str:
    place = appointment["participant"][1]["actor"]["display"]
    return f"{appointment['description']}, {place}, {when_text(appointment['start'])}"


class ValidateCancelForm(TaskFormValidation):
    form = "cancel_form"

    def name(self) -> str:
        return "validate_cancel_form"

    async def validate_appointment_id(self, value, dispatcher, tracker, domain) -> dict:
        chosen = entity(tracker, "appointment_id") or booking_code_in(str(value or ""))
        upcoming = {a["id"] for a in await _upcoming(tracker)}
        if chosen in upcoming:
            return {"appointment_id": chosen}
        dispatcher.utter_message(response="utter_bad_appointment")
        return {"appointment_id": None}

    def validate_cancel_confirmed(self, value, dispatcher, tracker, domain) -> dict:
        if intent(tracker) in ("affirm", "cancel_appointment"):  # "hủy đi" at this question is a yes
            return {"cancel_confirmed": "yes"}
        # Anything else keeps the appointment: back to choosing.
        return {"cancel_confirmed": None, "appointment_id": None}


class ActionAskAppointmentId(CityAction):
    def name(self) -> str:
        return "action_ask_appointment_id"

    async def act(self, dispatcher, tracker, domain) -> list:
        upcoming = await _upcoming(tracker)
        if not upcoming:
            dispatcher.utter_message(response="utter_no_appointments")
            return [ActiveLoop(None), *forms.clear("cancel_form")]
        buttons = [payload_button(_label(a), "inform", appointment_id=a["id"]) for a in upcoming]
        dispatcher.utter_message(text="Dạ, bác muốn hủy lịch nào ạ?", buttons=buttons)
        return []


class ActionAskCancelConfirmed(CityAction):
    def name(self) -> str:
        return "action_ask_cancel_confirmed"

    async def act(self, dispatcher, tracker, domain) -> list:
        upcoming = await _upcoming(tracker)
        chosen = next((a for a in upcoming if a["id"] == tracker.get_slot("appointment_id")), None)
        if chosen is None:
            # Gone meanwhile (cancelled from another chat, or past): choose again among what is left.
            dispatcher.utter_message(response="utter_bad_appointment")
            return [SlotSet("appointment_id", None), SlotSet("requested_slot", "appointment_id"),
                    *await ActionAskAppointmentId().act(dispatcher, tracker, domain)]
        dispatcher.utter_message(
            response="utter_cancel_summary", code=chosen["id"], service_name=chosen["description"],
            facility_name=chosen["participant"][1]["actor"]["display"], when=when_text(chosen["start"]))
        return []


class ActionCancelAppointment(CityAction):
    form = "cancel_form"

    def name(self) -> str:
        return "action_cancel_appointment"

    async def act(self, dispatcher, tracker, domain) -> list:
        code = tracker.get_slot("appointment_id")
        if not code or tracker.get_slot("cancel_confirmed") != "yes":
            return []  # the form closed itself (nothing upcoming, or the city down): nothing to cancel
        cancelled = await (await services()).fhir.cancel(code)
        dispatcher.utter_message(response="utter_cancelled", code=code, when=when_text(cancelled["start"]))
        return forms.clear("cancel_form")


class ActionMyAppointments(CityAction):
    def name(self) -> str:
        return "action_my_appointments"

    async def act(self, dispatcher, tracker, domain) -> list:
        upcoming = await _upcoming(tracker)
        if not upcoming:
            dispatcher.utter_message(response="utter_no_appointments")
            return []
        lines = "\n".join(f"• {_label(a)} (mã {spoken_code(a['id'])})" for a in upcoming)
        dispatcher.utter_message(response="utter_my_appointments", lines=lines)
        return []
