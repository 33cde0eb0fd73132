"""Reporting a problem: what, where, a short description, photo and phone, confirm, send."""
from __future__ import annotations

import re
import uuid

from rasa_sdk import Action, Tracker

from common.gateway import is_upload
from common.places import in_hue
from common.text import normalize_phone
from common.wording import CATEGORY_LABELS, spoken_code, spoken_phone

from . import forms
from .categories import guess_category
from .clients.http import CityRefused, CityUnavailable
from .forms import TaskFormValidation, choice, entity, intent, last_response, payload_button
from .places import place_in
from .services import services

NONE = "none"  # the citizen chose to give no photo / no phone
MAX_DESCRIPTION = 4000
# "không, ở đường Lê Lợi": the place follows one of these words in a correction.
_PLACE = re.compile(r"\b(?:ở|tại|tai|chỗ|đường|duong|kiệt|kiet|hẻm|hem|số nhà|so nha)\b.+", re.I)
_PLACE_LEAD = re.compile(r"^(?:ở|tại|tai|chỗ)\s+", re.I)
_FIELD_TITLES = {"category": "Loại việc", "address": "Địa chỉ", "description": "Mô tả",
                 "report_phone": "Số điện thoại"}


def _only_yes_or_no(text: str, tracker) -> bool:
    """'ừ đúng', 'không biết': no place and no description, however long the letters."""
    return intent(tracker) in ("affirm", "deny") and len(text.split()) <= 3


class ValidateReportForm(TaskFormValidation):
    form = "report_form"

    def name(self) -> str:
        return "validate_report_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain):
        slots = [s for s in domain_slots if not (s == "report_phone" and tracker.get_slot("user_phone"))]
        # Once known, the place hint is listed too: filled, so never asked, but rasa-sdk keeps only the slots
        # listed here from what extract_address returns.
        return slots + ["place_hint"] if tracker.get_slot("place_hint") else slots

    def validate_place_hint(self, value, dispatcher, tracker, domain) -> dict:
        return {"place_hint": value}

    def validate_category(self, value, dispatcher, tracker, domain) -> dict:
        code = choice(tracker, "category", value, CATEGORY_LABELS) or guess_category(str(value or ""))
        if code is None:
            dispatcher.utter_message(response="utter_bad_category")
        return {"category": code}

    async def extract_address(self, dispatcher, tracker, domain) -> dict:
        """A place named in the request (or with the kind of problem): kept. A house number or a landmark makes it
        the address; a street or a ward alone is a hint, and the address question asks only for what is missing."""
        if tracker.get_slot("requested_slot") not in (None, "category") or tracker.get_slot("address"):
            return {}
        place = place_in(tracker.latest_message.get("text") or "", entity(tracker, "ward"))
        if place is None or (tracker.latest_message.get("text") or "").startswith("/"):
            return {}
        return {"address": place.text} if place.precise else {"place_hint": place.text}

    def validate_address(self, value, dispatcher, tracker, domain) -> dict:
        lat, long = entity(tracker, "lat"), entity(tracker, "long")
        if lat or long:
            # A location button's payload can be typed too: only a place in Huế is taken.
            if not in_hue(lat, long):
                dispatcher.utter_message(response="utter_location_outside")
                return {"address": None, "lat": None, "long": None}
            return {"address": "Vị trí bác đã gửi trên bản đồ", "lat": lat, "long": long}
        text = " ".join(str(value or "").split())
        hint = tracker.get_slot("place_hint")
        if hint and tracker.get_slot("requested_slot") == "address":
            if intent(tracker) == "deny" and len(text.split()) <= 4:
                return {"address": hint}  # "không rõ số nhà": the street is what there is
            if len(text) >= 2 and not text.startswith("/") and not _only_yes_or_no(text, tracker):
                # "số 12", "gần chợ": the rest of the place the request named; a street of its own replaces it.
                own = place_in(text, entity(tracker, "ward"))
                return {"address": text if own and own.street else f"{text}, {hint}"}
        if len(text) < 4 or text.startswith("/") or _only_yes_or_no(text, tracker):
            dispatcher.utter_message(response="utter_bad_address")
            return {"address": None}
        return {"address": text}

    def validate_description(self, value, dispatcher, tracker, domain) -> dict:
        text = str(value or "").strip()
        if len(text) < 4 or text.startswith("/") or _only_yes_or_no(text, tracker):
            dispatcher.utter_message(response="utter_bad_description")
            return {"description": None}
        if len(text) > MAX_DESCRIPTION:
            dispatcher.utter_message(response="utter_bad_description_long")
            return {"description": None}
        return {"description": text}

    async def validate_photo(self, value, dispatcher, tracker, domain) -> dict:
        url = entity(tracker, "photo_url")
        # Only a photo the gateway took in; a typed payload naming any other address is no photo.
        if url and is_upload(url, (await services()).settings.gateway_url):
            return {"photo": url}
        if intent(tracker) == "deny":
            return {"photo": NONE}
        dispatcher.utter_message(response="utter_bad_photo")
        return {"photo": None}

    def validate_report_phone(self, value, dispatcher, tracker, domain) -> dict:
        phone = normalize_phone(entity(tracker, "phone") or str(value or ""))
        if phone:
            return {"report_phone": phone, "user_phone": phone}
        if intent(tracker) == "deny":
            return {"report_phone": NONE}
        dispatcher.utter_message(response="utter_bad_phone")
        return {"report_phone": None}

    def validate_report_confirmed(self, value, dispatcher, tracker, domain) -> dict:
        """Yes sends; anything else is read as a correction and the summary is shown again."""
        if intent(tracker) == "affirm":
            return {"report_confirmed": "yes"}
        field = entity(tracker, "edit_field")
        if field in _FIELD_TITLES:
            return {field: None, "report_confirmed": None, **({"place_hint": None} if field == "address" else {})}
        text = str(value or "")
        changes: dict = {"report_confirmed": None}
        category = entity(tracker, "category")
        phone = normalize_phone(entity(tracker, "phone") or "")
        place = _PLACE.search(text)
        if category:
            changes["category"] = category
        if phone:
            changes.update(report_phone=phone, user_phone=phone)
        if place and not phone:
            changes.update(address=_PLACE_LEAD.sub("", place.group(0)).strip(" .,"), lat=None, long=None)
        return changes


class ActionAskAddress(Action):
    def name(self) -> str:
        return "action_ask_address"

    async def run(self, dispatcher, tracker, domain) -> list:
        hint = tracker.get_slot("place_hint")
        if hint:
            dispatcher.utter_message(response="utter_ask_address_near", place=hint)
        else:
            dispatcher.utter_message(response="utter_ask_address")
        return []


class ActionAskCategory(Action):
    def name(self) -> str:
        return "action_ask_category"

    async def run(self, dispatcher, tracker, domain) -> list:
        buttons = [payload_button(label, "inform", category=code) for code, label in CATEGORY_LABELS.items()]
        guess = guess_category(tracker.latest_message.get("text") or "")
        if guess:
            # "có cây to ngã chắn lối": one tap confirms what the words suggest.
            label = CATEGORY_LABELS[guess]
            dispatcher.utter_message(response="utter_ask_category_guess", category_name=label[0].lower() + label[1:],
                                     buttons=[payload_button("Đúng", "inform", category=guess)] + buttons)
        else:
            dispatcher.utter_message(text="Dạ, bác muốn phản ánh việc chi ạ?", buttons=buttons)
        return []


def _report_summary(tracker: Tracker) -> dict:
    photo = tracker.get_slot("photo")
    phone = tracker.get_slot("report_phone") or tracker.get_slot("user_phone")
    return {
        "category_name": CATEGORY_LABELS.get(tracker.get_slot("category"), ""),
        "address": tracker.get_slot("address"),
        "description": tracker.get_slot("description"),
        "photo_text": "có" if photo and photo != NONE else "không có",
        "phone_text": spoken_phone(phone) if phone and phone != NONE else "không để lại",
    }


class ActionAskReportConfirmed(Action):
    def name(self) -> str:
        return "action_ask_report_confirmed"

    async def run(self, dispatcher, tracker, domain) -> list:
        corrected = entity(tracker, "category") or entity(tracker, "phone") or _PLACE.search(
            tracker.latest_message.get("text") or "")
        answering_summary = last_response(tracker) == "utter_report_summary"
        if answering_summary and intent(tracker) == "deny" and not corrected:
            buttons = [payload_button(t, "inform", edit_field=f) for f, t in _FIELD_TITLES.items()]
            dispatcher.utter_message(response="utter_which_field", buttons=buttons)
            return []
        dispatcher.utter_message(response="utter_report_summary", **_report_summary(tracker))
        return []


def open311_fields(tracker: Tracker) -> dict:
    """The report as Open311 POST fields; the chat account lets the citizen list it later."""
    photo = tracker.get_slot("photo")
    phone = tracker.get_slot("report_phone") or tracker.get_slot("user_phone")
    fields = {
        "service_code": tracker.get_slot("category"),
        "description": tracker.get_slot("description"),
        "address_string": tracker.get_slot("address"),
        "lat": tracker.get_slot("lat"),
        "long": tracker.get_slot("long"),
        "account_id": tracker.sender_id,
        "media_url": photo if photo != NONE else None,
        "phone": phone if phone != NONE else None,
    }
    return {k: v for k, v in fields.items() if v}


def _confirming_message(tracker) -> str:
    """The id of the message that confirmed the report: one idempotency key per confirmation, so the same turn
    sent to a second action server when the first is too slow (deploy/nginx.conf.template) is filed once."""
    said = next((e for e in reversed(tracker.events) if e.get("event") == "user"), {})
    return str(said.get("message_id") or uuid.uuid4().hex)


class ActionSubmitReport(Action):
    def name(self) -> str:
        return "action_submit_report"

    async def run(self, dispatcher, tracker, domain) -> list:
        city = await services()
        report = open311_fields(tracker)
        key = f"{tracker.sender_id}:{_confirming_message(tracker)}"
        try:
            result = await city.open311.create(report, key)
        except CityUnavailable:
            await city.store.keep(tracker.sender_id, key, report)
            dispatcher.utter_message(response="utter_report_queued")
        except CityRefused as error:
            dispatcher.utter_message(response="utter_report_refused", reason=error.message)
        else:
            case_id = result["service_request_id"]
            dispatcher.utter_message(
                response="utter_report_sent", case_id=case_id, case_id_spoken=spoken_code(case_id),
                service_notice=result.get("service_notice") or "",
                buttons=[payload_button("Xem tình trạng", "check_status", case_id=case_id),
                         {"title": "Về đầu", "payload": "/help"}])
        return forms.clear("report_form")
