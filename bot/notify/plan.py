"""What a notification says and when it may go: pure functions of an event, an appointment and the clock."""
from __future__ import annotations

import json
from datetime import datetime, time, timedelta

from common.clock import LOCAL_TZ
from common.wording import CATEGORY_LABELS, STATUS_WORDS, spoken_code, when_text

from ..settings import NotifySettings

ASK_OFFICER = {"title": "Nhắn cán bộ", "payload": "/ask_human"}
FIRST = "Dạ, trước tiên cháu báo bác: "


def _button(title: str, intent: str, **entities) -> dict:
    return {"title": title, "payload": f"/{intent}{json.dumps(entities, separators=(',', ':'))}"}


def status_message(data: dict) -> dict:
    """An officer changed a report: 'Dạ, phản ánh PA 2026 000 123 của bác (Rác thải) đã xử lý xong: …'"""
    case = data["service_request_id"]
    category = CATEGORY_LABELS.get(data.get("service_code", ""), "")
    about = f" ({category.lower()})" if category else ""
    text = f"Dạ, phản ánh {spoken_code(case)}{about} của bác {STATUS_WORDS.get(data['status'], 'đã được cập nhật')}"
    notes = (data.get("status_notes") or "").strip()
    text += f". Cán bộ ghi: {notes}" if notes else "."
    if not text.endswith((".", "!", "?")):
        text += "."
    return {"text": text, "buttons": [_button("Xem chi tiết", "check_status", case_id=case), ASK_OFFICER]}


def reminder_message(appointment: dict) -> dict:
    """The day before a clinic visit: where, what, when, and what to bring; a button to cancel."""
    code = appointment["id"]
    place = appointment["participant"][1]["actor"]["display"]
    text = (f"Dạ, bác có lịch khám {appointment['description'].lower()} tại {place}, "
            f"lúc {when_text(appointment['start'])}. Mã lịch hẹn {spoken_code(code)}. "
            "Bác nhớ mang CCCD và thẻ BHYT nghe ạ.")
    return {"text": text, "buttons": [_button("Hủy lịch này", "cancel_appointment", appointment_id=code),
                                      ASK_OFFICER]}


def told_first(message: dict) -> dict:
    """A message that waited for the citizen, said before the answer to what they just said."""
    text = message["text"].removeprefix("Dạ, ")
    return {**message, "text": FIRST + text[:1].lower() + text[1:]}


def is_quiet(moment: datetime, settings: NotifySettings) -> bool:
    hour = moment.astimezone(LOCAL_TZ).hour
    if settings.quiet_from > settings.quiet_until:
        return hour >= settings.quiet_from or hour < settings.quiet_until
    return settings.quiet_from <= hour < settings.quiet_until


def after_quiet(moment: datetime, settings: NotifySettings) -> datetime:
    """`moment`, or the end of the quiet hours it falls in."""
    if not is_quiet(moment, settings):
        return moment
    local = moment.astimezone(LOCAL_TZ)
    morning = datetime.combine(local.date(), time(settings.quiet_until), LOCAL_TZ)
    return morning if morning > local else morning + timedelta(days=1)


def reminder_due(start: datetime, booked: datetime, settings: NotifySettings) -> datetime | None:
    """The day before the visit at the reminder hour (out of the quiet hours); None when that has passed at booking
    (the booking's own confirmation was the reminder) or would not come before the visit."""
    day_before = start.astimezone(LOCAL_TZ).date() - timedelta(days=1)
    due = after_quiet(datetime.combine(day_before, time(settings.reminder_hour), LOCAL_TZ), settings)
    return due if booked < due < start else None
