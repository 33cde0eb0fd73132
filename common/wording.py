"""How the assistant says codes, numbers, days and times to elders."""
from __future__ import annotations

from datetime import date, datetime

from common.clock import LOCAL_TZ
from common.text import phone_groups

WEEKDAYS = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"]

# Short labels for buttons and summaries; the city's own names come from Open311.
CATEGORY_LABELS = {
    "rac_thai": "Rác thải",
    "duong_hu_hong": "Ổ gà, đường hư",
    "ngap_ung": "Ngập nước",
    "den_duong": "Đèn đường hỏng",
    "cay_xanh": "Cây đổ, cây gãy",
    "lan_chiem_via_he": "Lấn chiếm vỉa hè",
    "tieng_on": "Tiếng ồn",
    "cap_nuoc": "Nước sinh hoạt",
    "khac": "Việc khác",
}

STATUS_WORDS = {
    "received": "đã được tiếp nhận",
    "in_progress": "đang được xử lý",
    "resolved": "đã xử lý xong",
    "rejected": "không thuộc phạm vi xử lý",
}

def spoken_code(code: str) -> str:
    """Read back in small groups: 'PA-2026-000123' -> 'PA 2026 000 123', 'LK-482913' -> 'LK 482 913'."""
    prefix, *parts = code.split("-")
    groups = [prefix, *parts[:-1], parts[-1][:3], parts[-1][3:]]
    return " ".join(g for g in groups if g)


def spoken_phone(phone: str) -> str:
    """'0905123456' -> '0905 123 456'; landlines '02343822325' -> '0234 3822 325'."""
    return " ".join(phone_groups(phone))


def masked_phone(phone: str) -> str:
    """Shown back to a citizen so they recognise it, never whole: '0905123456' -> '0905 *** 456'."""
    groups = phone_groups(phone)
    return " ".join([groups[0], *["***" for _ in groups[1:-1]], groups[-1]])


def day_text(day: date) -> str:
    return f"{WEEKDAYS[day.weekday()]}, {day.day}/{day.month}/{day.year}"


def short_day(day: date) -> str:
    return f"{WEEKDAYS[day.weekday()]} {day.day}/{day.month}"


def clock_text(moment: datetime) -> str:
    """'7 giờ 20 sáng', '1 giờ 30 chiều' (12-hour, as elders say it)."""
    local = moment.astimezone(LOCAL_TZ)
    hour = local.hour if local.hour <= 12 else local.hour - 12
    part = "sáng" if local.hour < 11 else "trưa" if local.hour < 13 else "chiều"
    minutes = f" {local.minute}" if local.minute else ""
    return f"{hour} giờ{minutes} {part}"


def when_text(start: str) -> str:
    moment = datetime.fromisoformat(start)
    return f"{clock_text(moment)}, {day_text(moment.astimezone(LOCAL_TZ).date())}"


def date_of(iso: str | None) -> str:
    if not iso:
        return ""
    moment = datetime.fromisoformat(iso).astimezone(LOCAL_TZ)
    return f"{moment.day}/{moment.month}/{moment.year}"
