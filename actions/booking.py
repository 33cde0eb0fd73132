"""Booking a clinic visit: where, what, which day, which slot, who, confirm, book."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet

from common.clock import LOCAL_TZ, local_now, today
from common.text import fold, normalize_phone, words, written_out
from common.wording import clock_text, short_day, spoken_code, spoken_phone, when_text

from . import forms
from .clients.fhir import FhirClient, SlotTaken
from .dates import When, parse_when
from .forms import CityAction, TaskFormValidation, choice, entity, intent, last_response, payload_button
from .services import services

NEAR_HOME = "gan_nha"
SLOT_CHOICES = 4
DAY_CHOICES = 3
BOOKING_DAYS = 14
# The hospitals offered first as buttons; any other facility can be named or found by ward.
HOSPITALS = ["bv-trung-uong-hue", "bv-dai-hoc-y-duoc-hue"]
# A correction of one answer also forgets the answers that depended on it.
_EDITS = {
    "facility": ["facility", "visit_day", "day_part", "slot_id"],  # the service stays if the new place has it
    "service": ["service", "visit_day", "day_part", "slot_id"],
    "visit_day": ["visit_day", "day_part", "slot_id"],
    "patient_name": ["patient_name", "patient_phone", "user_name", "user_phone"],
}
# A name never starts with these (abbreviations written out): the answer corrects an earlier one
# ("ko, đổi qua thứ Sáu").
_CORRECTION_WORDS = {"khong", "sai", "doi", "thoi"}
_EDIT_TITLES = {"facility": "Nơi khám", "service": "Loại khám", "visit_day": "Ngày giờ",
                "patient_name": "Họ tên, số điện thoại"}


def _near_home(tracker: Tracker) -> bool:
    """The "Trạm y tế gần nhà" button, or those words typed or said."""
    return entity(tracker, "facility") == NEAR_HOME or "gan nha" in fold(tracker.latest_message.get("text") or "")


def _is_station(location: dict) -> bool:
    return any(t.get("text") == "Trạm y tế" for t in location.get("type", []))


def _code(service: dict) -> str:
    return service["serviceType"][0]["coding"][0]["code"]


def _display(service: dict) -> str:
    return service["serviceType"][0]["coding"][0]["display"]


async def _schedule(fhir: FhirClient, facility: str, service: str) -> dict | None:
    return next((s for s in await fhir.schedules(facility) if _code(s) == service), None)


async def _free_slots(fhir: FhirClient, facility: str, service: str, day: date, days: int = 1) -> list[dict]:
    """Free slots from that day on, for `days` days, not yet begun; soonest first."""
    schedule = await _schedule(fhir, facility, service)
    if schedule is None:
        return []
    start = max(datetime.combine(day, time(0), LOCAL_TZ), local_now())
    end = datetime.combine(day + timedelta(days=days), time(0), LOCAL_TZ)
    if start >= end:
        return []
    return await fhir.free_slots(schedule["id"], start, end, count=500)


# The half-days clinics work, as elders name them.
PARTS = {"morning": "sáng", "afternoon": "chiều"}


async def _day_still_free(facility: str, service: str, dispatcher, tracker) -> dict:
    """A day taken from the request before the place or service was known: forgotten if it has no free time."""
    try:
        day = date.fromisoformat(tracker.get_slot("visit_day") or "")
    except ValueError:
        return {}  # none, or the request's words not read yet: validate_visit_day checks that day itself
    if await _free_slots((await services()).fhir, facility, service, day):
        return {}
    dispatcher.utter_message(response="utter_day_unavailable", day=short_day(day))
    return {"visit_day": None, "day_part": None, "slot_id": None}


def _part(slot: dict) -> str:
    return "morning" if datetime.fromisoformat(slot["start"]).hour < 12 else "afternoon"


def slot_choices(slots: list[dict], part: str | None) -> list[dict]:
    """Up to four, morning first: two of each half-day, or all of the half-day asked for."""
    if part in ("morning", "afternoon"):
        chosen = [s for s in slots if _part(s) == part][:SLOT_CHOICES]
    else:
        mornings = [s for s in slots if _part(s) == "morning"]
        afternoons = [s for s in slots if _part(s) == "afternoon"]
        chosen = mornings[:2] + afternoons[:2]
        chosen += [s for s in slots if s not in chosen][:SLOT_CHOICES - len(chosen)]
    return sorted(chosen, key=lambda s: s["start"])[:SLOT_CHOICES] or slots[:SLOT_CHOICES]


class ValidateBookForm(TaskFormValidation):
    form = "book_form"

    def name(self) -> str:
        return "validate_book_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain):
        if tracker.get_slot("user_name") and tracker.get_slot("user_phone"):
            return [s for s in domain_slots if s not in ("patient_name", "patient_phone")]
        return domain_slots

    async def validate_facility(self, value, dispatcher, tracker, domain) -> dict:
        fhir = (await services()).fhir
        chosen = entity(tracker, "facility") or value
        if chosen and chosen != NEAR_HOME and await fhir.location(str(chosen)) is not None:
            return await self._offering(str(chosen), dispatcher, tracker)
        ward = entity(tracker, "ward")
        if ward:
            stations = [loc for loc in await fhir.locations(address=ward) if _is_station(loc)]
            if stations:
                return await self._offering(stations[0]["id"], dispatcher, tracker)
            dispatcher.utter_message(response="utter_no_station_in_ward", ward=ward)
            return {"facility": None}
        if _near_home(tracker):
            return {"facility": None}  # action_ask_facility now asks for the ward
        found = await fhir.locations(**{"name:contains": str(value or "")}) if value else []
        if len(found) == 1:
            return await self._offering(found[0]["id"], dispatcher, tracker)
        dispatcher.utter_message(response="utter_bad_facility")
        return {"facility": None}

    @staticmethod
    async def _offering(facility: str, dispatcher, tracker) -> dict:
        """The place, and the service said earlier if the place offers it; if not, the service is asked again.
        A service said in the same message is judged by validate_service, which runs next (slots are validated in
        the domain's order): one judgement, one answer."""
        if "service" in tracker.slots_to_validate():
            return {"facility": facility}
        service = tracker.get_slot("service")
        schedules = await (await services()).fhir.schedules(facility)
        if service and service not in {_code(s) for s in schedules}:
            dispatcher.utter_message(response="utter_bad_service")
            return {"facility": facility, "service": None}
        if service:
            return {"facility": facility, **await _day_still_free(facility, service, dispatcher, tracker)}
        return {"facility": facility}

    async def validate_service(self, value, dispatcher, tracker, domain) -> dict:
        facility = tracker.get_slot("facility")
        if not facility:
            # Said before the place ("khám mắt"): kept, and checked once the place is known.
            return {"service": entity(tracker, "service")}
        offered = {_code(s): _display(s) for s in await (await services()).fhir.schedules(facility)}
        chosen = choice(tracker, "service", value, offered)
        if chosen is None:
            named = entity(tracker, "service")  # a service this place lacks, or an answer that names none
            dispatcher.utter_message(response="utter_bad_service" if named else "utter_unclear_service")
            return {"service": None}
        return {"service": chosen, **await _day_still_free(facility, chosen, dispatcher, tracker)}

    async def validate_visit_day(self, value, dispatcher, tracker, domain) -> dict:
        when = parse_when(str(value or ""), today())
        if not tracker.get_slot("requested_slot"):
            # The request itself: a day it names is kept, else nothing is said and the day is asked later.
            if when.day is None:
                return {"visit_day": None}
            if not (tracker.get_slot("facility") and tracker.get_slot("service")):
                # Checked for free times once the place and the service are known (_day_still_free).
                return {"visit_day": when.day.isoformat(), "day_part": when.part_of_day}
        return await self._day(when, dispatcher, tracker)

    @staticmethod
    async def _day(when: When, dispatcher, tracker) -> dict:
        """The day said, with its half-day and time when given; the day is asked again if it has no free slot."""
        if when.day is None or not today() <= when.day <= today() + timedelta(days=BOOKING_DAYS * 2):
            dispatcher.utter_message(response="utter_bad_day")
            return {"visit_day": None}
        slots = await _free_slots((await services()).fhir, tracker.get_slot("facility"),
                                  tracker.get_slot("service"), when.day)
        if not slots:
            dispatcher.utter_message(response="utter_day_unavailable", day=short_day(when.day))
            return {"visit_day": None}
        changes = {"visit_day": when.day.isoformat(), "day_part": when.part_of_day}
        if when.at:
            exact = [s for s in slots if datetime.fromisoformat(s["start"]).time() == when.at]
            if exact:
                changes["slot_id"] = exact[0]["id"]
            else:  # taken since it was offered ("Sớm nhất"), or never free: said, then that day's times
                dispatcher.utter_message(response="utter_bad_slot")
        return changes

    async def validate_slot_id(self, value, dispatcher, tracker, domain) -> dict:
        fhir = (await services()).fhir
        day = date.fromisoformat(tracker.get_slot("visit_day"))
        slots = await _free_slots(fhir, tracker.get_slot("facility"), tracker.get_slot("service"), day)
        chosen = entity(tracker, "slot_id") or str(value or "")
        if any(s["id"] == chosen for s in slots):
            return {"slot_id": chosen}
        when = parse_when(str(value or ""), today())
        if when.day is not None and when.day != day:
            # Another day ("thôi, thứ Hai tuần sau"): its times are offered next.
            return {"slot_id": None, **await self._day(when, dispatcher, tracker)}
        if when.at:
            match = [s for s in slots if datetime.fromisoformat(s["start"]).time() == when.at]
            if match:
                return {"slot_id": match[0]["id"]}
        elif when.part_of_day in PARTS and when.part_of_day != tracker.get_slot("day_part"):
            # "chiều": the afternoon's times are offered next.
            if any(_part(s) == when.part_of_day for s in slots):
                return {"slot_id": None, "day_part": when.part_of_day}
            dispatcher.utter_message(response="utter_part_full", part=PARTS[when.part_of_day], day=short_day(day))
            return {"slot_id": None}
        dispatcher.utter_message(response="utter_bad_slot")
        return {"slot_id": None}

    async def validate_patient_name(self, value, dispatcher, tracker, domain) -> dict:
        parts = str(value or "").split()
        first = written_out(words(str(value or "")))[:1]
        correcting = bool(first) and fold(first[0]) in _CORRECTION_WORDS
        when = parse_when(str(value or ""), today()) if correcting else None
        if when and when.day is not None:
            # "không, đổi qua thứ Sáu": that day's times are offered, then the name is asked again.
            return {"patient_name": None, "slot_id": None, **await self._day(when, dispatcher, tracker)}
        if correcting or len(parts) < 2 or len(" ".join(parts)) > 80 or any(ch.isdigit() for ch in "".join(parts)):
            dispatcher.utter_message(response="utter_bad_name")
            return {"patient_name": None}
        name = " ".join(w[:1].upper() + w[1:].lower() for w in parts)
        return {"patient_name": name, "user_name": name}

    def validate_patient_phone(self, value, dispatcher, tracker, domain) -> dict:
        phone = normalize_phone(entity(tracker, "phone") or str(value or ""))
        if phone is None:
            dispatcher.utter_message(response="utter_bad_phone_required")
            return {"patient_phone": None}
        return {"patient_phone": phone, "user_phone": phone}

    async def validate_booking_confirmed(self, value, dispatcher, tracker, domain) -> dict:
        if intent(tracker) == "affirm":
            return {"booking_confirmed": "yes"}
        field = entity(tracker, "edit_field")
        if field in _EDITS:
            return {**{name: None for name in _EDITS[field]}, "booking_confirmed": None}
        phone = normalize_phone(entity(tracker, "phone") or "")
        if phone:
            return {"patient_phone": phone, "user_phone": phone, "booking_confirmed": None}
        when = parse_when(str(value or ""), today())
        if when.day is not None:
            # "không, đổi qua thứ Hai tuần sau": that day's times are offered, then the summary again.
            return {"slot_id": None, **await self._day(when, dispatcher, tracker), "booking_confirmed": None}
        return {"booking_confirmed": None}


class ActionAskFacility(CityAction):
    def name(self) -> str:
        return "action_ask_facility"

    async def act(self, dispatcher, tracker, domain) -> list:
        city = await services()
        events = []
        if not tracker.get_slot("user_name"):
            patient = await city.fhir.patient_of(tracker.sender_id)
            if patient:
                events = [SlotSet("user_name", patient["name"][0]["text"]),
                          SlotSet("user_phone", patient["telecom"][0]["value"])]
        if _near_home(tracker) and not entity(tracker, "ward"):
            stations = [loc for loc in await city.fhir.locations() if _is_station(loc)]
            buttons = [payload_button(loc["address"]["district"], "inform",
                                      ward=loc["address"]["district"].removeprefix("Phường ").strip())
                       for loc in stations]
            dispatcher.utter_message(response="utter_ask_ward_for_station", buttons=buttons)
            return events
        hospitals = [await city.fhir.location(ident) for ident in HOSPITALS]
        buttons = [payload_button(loc["name"], "inform", facility=loc["id"]) for loc in hospitals if loc]
        buttons.append(payload_button("Trạm y tế gần nhà", "inform", facility=NEAR_HOME))
        dispatcher.utter_message(text="Dạ, bác muốn khám ở mô ạ? Bác chọn một nơi, hoặc nói tên "
                                      "bệnh viện, tên phường ạ.", buttons=buttons)
        return events


class ActionAskService(CityAction):
    def name(self) -> str:
        return "action_ask_service"

    async def act(self, dispatcher, tracker, domain) -> list:
        schedules = await (await services()).fhir.schedules(tracker.get_slot("facility"))
        buttons = [payload_button(_display(s), "inform", service=_code(s)) for s in schedules]
        dispatcher.utter_message(text="Dạ, bác muốn khám chi ạ?", buttons=buttons)
        return []


class ActionAskVisitDay(CityAction):
    def name(self) -> str:
        return "action_ask_visit_day"

    async def act(self, dispatcher, tracker, domain) -> list:
        slots = await _free_slots((await services()).fhir, tracker.get_slot("facility"),
                                  tracker.get_slot("service"), today(), days=BOOKING_DAYS * 2)
        days = sorted({datetime.fromisoformat(s["start"]).date() for s in slots})[:DAY_CHOICES]
        buttons = [{"title": short_day(day), "payload": f"{day.day}/{day.month}/{day.year}"} for day in days]
        if slots:
            # The day and the time in one tap: one question fewer for whoever just wants the first free time.
            first = min(datetime.fromisoformat(s["start"]) for s in slots)
            buttons.append({"title": f"Sớm nhất: {short_day(first.date())}, {clock_text(first)}",
                            "payload": f"{first.day}/{first.month}/{first.year} {first:%H:%M}"})
        dispatcher.utter_message(text="Dạ, bác muốn khám ngày nào ạ? Bác chọn một ngày, hoặc nói "
                                      "“sáng mai”, “thứ Hai tuần sau”… ạ.", buttons=buttons)
        return []


class ActionAskSlotId(CityAction):
    def name(self) -> str:
        return "action_ask_slot_id"

    async def act(self, dispatcher, tracker, domain) -> list:
        day = date.fromisoformat(tracker.get_slot("visit_day"))
        slots = await _free_slots((await services()).fhir, tracker.get_slot("facility"),
                                  tracker.get_slot("service"), day)
        choices = slot_choices(slots, tracker.get_slot("day_part"))
        buttons = [payload_button(clock_text(datetime.fromisoformat(s["start"])), "inform", slot_id=s["id"])
                   for s in choices]
        dispatcher.utter_message(text=f"Dạ, {short_day(day)} còn các giờ ni ạ. Bác chọn một giờ:",
                                 buttons=buttons)
        return []


async def _booking_facts(tracker: Tracker) -> dict:
    fhir = (await services()).fhir
    location = await fhir.location(tracker.get_slot("facility"))
    schedule = await _schedule(fhir, tracker.get_slot("facility"), tracker.get_slot("service"))
    slot = await fhir.slot(tracker.get_slot("slot_id"))
    phone = tracker.get_slot("patient_phone") or tracker.get_slot("user_phone")
    return {
        "facility_name": location["name"],
        "service_name": _display(schedule),
        "when": when_text(slot["start"]),
        "patient_name": tracker.get_slot("patient_name") or tracker.get_slot("user_name"),
        "phone": phone,
        "phone_spoken": spoken_phone(phone),
    }


class ActionAskBookingConfirmed(CityAction):
    def name(self) -> str:
        return "action_ask_booking_confirmed"

    async def act(self, dispatcher, tracker, domain) -> list:
        answering_summary = last_response(tracker) == "utter_booking_summary"
        if answering_summary and intent(tracker) == "deny" and not entity(tracker, "phone"):
            buttons = [payload_button(t, "inform", edit_field=f) for f, t in _EDIT_TITLES.items()]
            dispatcher.utter_message(text="Dạ, bác muốn sửa chỗ mô ạ?", buttons=buttons)
            return []
        facts = await _booking_facts(tracker)
        dispatcher.utter_message(response="utter_booking_summary", **facts)
        return []


class ActionBookAppointment(CityAction):
    form = "book_form"

    def name(self) -> str:
        return "action_book_appointment"

    async def act(self, dispatcher, tracker, domain) -> list:
        city = await services()
        slot_id = tracker.get_slot("slot_id")
        if tracker.get_slot("booking_confirmed") != "yes" or not slot_id:
            return []  # the form was left (the city was down): nothing to book
        facts = await _booking_facts(tracker)
        try:
            booked = await city.fhir.book(slot_id, facts["patient_name"], facts["phone"], tracker.sender_id)
        except SlotTaken:
            booked = await self._already_ours(city.fhir, tracker.sender_id, slot_id)
        if booked is None:
            dispatcher.utter_message(response="utter_slot_taken")
            return [SlotSet("slot_id", None), SlotSet("booking_confirmed", None),
                    FollowupAction("book_form")]
        dispatcher.utter_message(response="utter_booked", code=booked["id"],
                                 code_spoken=spoken_code(booked["id"]), **facts)
        return [*forms.clear("book_form"), SlotSet("user_name", facts["patient_name"]),
                SlotSet("user_phone", facts["phone"])]

    @staticmethod
    async def _already_ours(fhir: FhirClient, account: str, slot_id: str) -> dict | None:
        """A retried booking whose first try went through is ours, not taken."""
        since = local_now() - timedelta(days=1)
        return next((a for a in await fhir.appointments_of(account, since)
                     if a["slot"][0]["reference"] == f"Slot/{slot_id}"), None)
