"""When city officers answer: Monday to Friday, 7:30-11:30 and 13:30-17:00 Huế time, public holidays off."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from common import clock
from common.clock import LOCAL_TZ

# Solar-calendar public holidays (month, day); Tết and Giỗ Tổ follow the lunar calendar
# and are closed by officers marking slots busy-unavailable.
HOLIDAYS = {(1, 1), (4, 30), (5, 1), (9, 1), (9, 2)}
SESSIONS = ((time(7, 30), time(11, 30)), (time(13, 30), time(17, 0)))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and (day.month, day.day) not in HOLIDAYS


def is_open(moment: datetime | None = None) -> bool:
    local = (moment or clock.now()).astimezone(LOCAL_TZ)
    return is_working_day(local.date()) and any(start <= local.time() < end for start, end in SESSIONS)


def next_opening(moment: datetime | None = None) -> datetime:
    """The next moment officers start answering (now, if they are)."""
    local = (moment or clock.now()).astimezone(LOCAL_TZ)
    if is_open(local):
        return local
    day = local.date()
    while True:
        if is_working_day(day):
            for start, _ in SESSIONS:
                opening = datetime.combine(day, start, local.tzinfo)
                if opening > local:
                    return opening
        day += timedelta(days=1)
