"""What became of a report: by its code, or the sender's own recent reports."""
from __future__ import annotations

import asyncio

from rasa_sdk import Action
from rasa_sdk.events import SlotSet

from common.text import case_id_in
from common.wording import CATEGORY_LABELS, STATUS_WORDS, date_of, spoken_code

from .clients.http import CityRefused, CityUnavailable
from .forms import accounts, city_down, entity, payload_button
from .services import services

MAX_LISTED = 5


def status_sentence(report: dict) -> dict:
    """The fields of utter_status for one Open311 request (with extensions)."""
    detailed = (report.get("extended_attributes") or {}).get("detailed_status", "received")
    notes = report.get("status_notes")
    expected = report.get("expected_datetime")
    extra = f"\nCán bộ ghi: {notes}" if notes else ""
    if report["status"] == "open" and expected:
        extra += f"\nDự kiến xử lý xong trước ngày {date_of(expected)}."
    return {
        "case_id": report["service_request_id"],
        "category_name": CATEGORY_LABELS.get(report["service_code"], report.get("service_name", "")),
        "status_text": STATUS_WORDS.get(detailed, "đã được tiếp nhận"),
        "updated": date_of(report.get("updated_datetime")),
        "notes": extra,
    }


class ActionCheckStatus(Action):
    def name(self) -> str:
        return "action_check_status"

    async def run(self, dispatcher, tracker, domain) -> list:
        case_id = case_id_in(entity(tracker, "case_id") or tracker.get_slot("case_id") or "") \
            or case_id_in(tracker.latest_message.get("text") or "")
        city = await services()
        try:
            if case_id:
                report = await city.open311.get(case_id)
                if report is None:
                    dispatcher.utter_message(response="utter_unknown_case", case_id=case_id)
                else:
                    dispatcher.utter_message(response="utter_status", **status_sentence(report))
            else:
                await self._list_own(dispatcher, tracker, city)
        except (CityUnavailable, CityRefused) as failure:
            return [*city_down(dispatcher, tracker, failure), SlotSet("case_id", None)]
        return [SlotSet("case_id", None)]

    async def _list_own(self, dispatcher, tracker, city) -> None:
        """What the citizen filed from any of their accounts, newest first."""
        waiting = await city.store.unsent(tracker.sender_id)
        filed = await asyncio.gather(*(city.open311.of_account(account) for account in accounts(tracker)))
        reports = sorted((r for found in filed for r in found), key=lambda r: r["requested_datetime"],
                         reverse=True)[:MAX_LISTED]
        if not reports and not waiting:
            dispatcher.utter_message(response="utter_no_reports")
            return
        lines = [f"• {spoken_code(r['service_request_id'])}: "
                 f"{CATEGORY_LABELS.get(r['service_code'], r['service_name'])}, "
                 f"{STATUS_WORDS.get(r['extended_attributes']['detailed_status'])} "
                 f"(gửi ngày {date_of(r['requested_datetime'])})" for r in reports]
        lines += [f"• {CATEGORY_LABELS.get(w.report['service_code'], '')}: "
                  "cháu đang giữ, chờ hệ thống thành phố nhận" for w in waiting]
        buttons = [payload_button(r["service_request_id"], "check_status",
                                  case_id=r["service_request_id"]) for r in reports]
        dispatcher.utter_message(response="utter_my_reports", lines="\n".join(lines), buttons=buttons)
