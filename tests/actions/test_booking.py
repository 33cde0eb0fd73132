"""Booking and cancelling clinic visits through the actions, against a real cityapi."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import forms
from actions.booking import (
    ActionAskFacility,
    ActionAskSlotId,
    ActionAskVisitDay,
    ActionBookAppointment,
    ValidateBookForm,
    slot_choices,
)
from actions.cancel import ActionAskAppointmentId, ActionCancelAppointment, ValidateCancelForm
from cityapi.seed import working_days
from common.clock import today
from tests.actions.conftest import said, tracker

pytestmark = pytest.mark.clock  # also run at fixed instants (scripts/test)


def _open_day(nth: int = 0) -> date:
    """The clinics' next working day after today (nth=1: the one after), holidays skipped."""
    return working_days(today() + timedelta(days=1), nth + 1)[nth]


def _next_week(weekday: int) -> date:
    """What "thứ … tuần sau" names: that weekday of next week."""
    return today() + timedelta(days=7 - today().weekday() + weekday)


def _closed_day() -> date:
    """The next Saturday: no clinic works."""
    return today() + timedelta(days=(5 - today().weekday()) % 7 or 7)


def _said(day: date) -> str:
    return f"{day.day}/{day.month}"


async def test_facility_by_button_ward_or_name(city):
    form, d = ValidateBookForm(), CollectingDispatcher()
    button = tracker('/inform{"facility":"bv-trung-uong-hue"}', entities=[("facility", "bv-trung-uong-hue")])
    assert await form.validate_facility("bv-trung-uong-hue", d, button, {}) == {"facility": "bv-trung-uong-hue"}
    ward = tracker("tui ở Vỹ Dạ", entities=[("ward", "Vỹ Dạ")])
    assert await form.validate_facility("tui ở Vỹ Dạ", d, ward, {}) == {"facility": "tyt-vy-da"}
    assert await form.validate_facility("dai hoc y duoc", d, tracker("dai hoc y duoc"), {}) == {
        "facility": "bv-dai-hoc-y-duoc-hue"}
    near = tracker('/inform{"facility":"gan_nha"}', entities=[("facility", "gan_nha")])
    assert await form.validate_facility("gan_nha", d, near, {}) == {"facility": None}
    nowhere = tracker("ở A Lưới", entities=[("ward", "A Lưới 1")])
    assert await form.validate_facility("ở A Lưới", d, nowhere, {}) == {"facility": None}
    assert said(d) == ["utter_no_station_in_ward"]


async def test_near_home_typed_or_said_asks_for_the_ward(city):
    form, d = ValidateBookForm(), CollectingDispatcher()
    typed = tracker("tram y te gan nha")
    assert await form.validate_facility("tram y te gan nha", d, typed, {}) == {"facility": None}
    assert said(d) == []
    await ActionAskFacility().run(d, typed, {})
    assert said(d) == ["utter_ask_ward_for_station"]


async def test_a_service_said_before_the_place_is_kept_and_checked_against_it(city):
    form, d = ValidateBookForm(), CollectingDispatcher()
    early = tracker("mệ muốn đi khám mắt", intent="book_clinic", entities=[("service", "mat")])
    assert await form.validate_service("mat", d, early, {}) == {"service": "mat"}
    assert said(d) == []
    hospital = tracker('/inform{"facility":"bv-trung-uong-hue"}', entities=[("facility", "bv-trung-uong-hue")],
                       slots={"service": "mat"})
    assert await form.validate_facility("bv-trung-uong-hue", d, hospital, {}) == {"facility": "bv-trung-uong-hue"}
    station = tracker("tui ở Vỹ Dạ", entities=[("ward", "Vỹ Dạ")], slots={"service": "mat"})
    assert await form.validate_facility("tui ở Vỹ Dạ", d, station, {}) == {"facility": "tyt-vy-da", "service": None}
    assert said(d) == ["utter_bad_service"]  # that station has no eye clinic: the service is asked again


async def test_another_task_asked_for_in_the_middle_is_not_taken_as_an_answer(city):
    form, d = ValidateBookForm(), CollectingDispatcher()
    other = tracker("phản ánh của tui tới mô rồi", intent="check_status", slots={"requested_slot": "facility"},
                    events=[{"event": "user", "text": "phản ánh của tui tới mô rồi"},
                            {"event": "slot", "name": "facility", "value": "phản ánh của tui tới mô rồi"}])
    assert await form.run(d, other, {"slots": {}, "forms": {"book_form": {"required_slots": []}}}) == [
        SlotSet("facility", None)]
    assert said(d) == ["utter_other_task_in_form"] and d.messages[0]["task"] == "đặt lịch khám"
    forget = tracker("xóa thông tin của tui", intent="forget_me", slots={"requested_slot": "facility"},
                     events=[{"event": "user", "text": "xóa thông tin của tui"},
                             {"event": "slot", "name": "facility", "value": "xóa thông tin của tui"}])
    d = CollectingDispatcher()
    assert await form.run(d, forget, {"slots": {}, "forms": {"book_form": {"required_slots": []}}}) == [
        SlotSet("facility", None)]
    assert said(d) == ["utter_other_task_in_form"]  # "thôi" first, then it can be asked
    own = tracker("đặt lịch khám", intent="book_clinic", slots={"requested_slot": "facility"})
    d = CollectingDispatcher()
    await form.run(d, own, {"slots": {}, "forms": {"book_form": {"required_slots": []}}})
    assert "utter_other_task_in_form" not in said(d)


async def test_ask_facility_prefills_a_known_patient_and_asks_ward_for_near_home(city):
    d = CollectingDispatcher()
    assert await ActionAskFacility().run(d, tracker("/book_clinic", intent="book_clinic"), {}) == []
    assert [b["title"] for b in d.messages[0]["buttons"]] == [
        "Bệnh viện Trung ương Huế", "Bệnh viện Trường Đại học Y - Dược Huế", "Trạm y tế gần nhà"]
    d = CollectingDispatcher()
    await ActionAskFacility().run(d, tracker("gần nhà", entities=[("facility", "gan_nha")]), {})
    assert said(d) == ["utter_ask_ward_for_station"]
    assert '/inform{"ward":"Vỹ Dạ"}' in [b["payload"] for b in d.messages[0]["buttons"]]


async def test_service_day_and_slot(city):
    form, d = ValidateBookForm(), CollectingDispatcher()
    slots = {"facility": "bv-trung-uong-hue"}
    assert await form.validate_service("khám tim", d, tracker(entities=[("service", "tim-mach")], slots=slots),
                                       {}) == {"service": "tim-mach"}
    assert await form.validate_service("mắt", d, tracker("mắt", entities=[("service", "mat")],
                                                         slots={"facility": "tyt-vy-da"}), {}) == {"service": None}
    assert await form.validate_service("thứ sáu", d, tracker("thứ sáu", slots={"facility": "tyt-vy-da"}), {}) == {
        "service": None}
    slots["service"] = "tim-mach"
    assert said(d) == ["utter_bad_service", "utter_unclear_service"]
    d, monday = CollectingDispatcher(), _next_week(0)
    result = await form.validate_visit_day("chiều thứ hai tuần sau", d, tracker(slots=slots), {})
    if monday in working_days(monday, 1):
        assert result == {"visit_day": monday.isoformat(), "day_part": "afternoon"}
    else:  # a public holiday
        assert result == {"visit_day": None} and said(d) == ["utter_day_unavailable"]
    d = CollectingDispatcher()
    sat = await form.validate_visit_day(_said(_closed_day()), d, tracker(slots=slots), {})
    assert sat == {"visit_day": None}
    assert await form.validate_visit_day("hôm qua", d, tracker(slots=slots), {}) == {"visit_day": None}
    day = _open_day()
    exact = await form.validate_visit_day(f"9 giờ sáng {_said(day)}", d, tracker(slots=slots), {})
    assert exact["visit_day"] == day.isoformat() and exact["slot_id"]
    assert said(d) == ["utter_day_unavailable", "utter_bad_day"]

    slots.update(visit_day=day.isoformat(), day_part=None)
    d = CollectingDispatcher()
    await ActionAskSlotId().run(d, tracker(slots=slots), {})
    titles = [b["title"] for b in d.messages[0]["buttons"]]
    assert titles == ["7 giờ sáng", "7 giờ 20 sáng", "1 giờ 30 chiều", "1 giờ 50 chiều"]
    picked = d.messages[0]["buttons"][1]["payload"].split('"')[3]
    assert await form.validate_slot_id(picked, d, tracker(entities=[("slot_id", picked)], slots=slots),
                                       {}) == {"slot_id": picked}
    typed = await form.validate_slot_id("7 giờ 20", d, tracker("7 giờ 20", slots=slots), {})
    assert typed == {"slot_id": picked}

    d = CollectingDispatcher()
    await ActionAskVisitDay().run(d, tracker(slots=slots), {})
    *days, earliest = d.messages[0]["buttons"]
    assert len(days) == 3 and earliest["title"].startswith("Sớm nhất: ")
    # The earliest free time is a day and a time: it answers the time question too.
    both = await form.validate_visit_day(earliest["payload"], d, tracker(slots={**slots, "visit_day": None}), {})
    assert both["slot_id"] and both["visit_day"] == earliest_day(earliest["payload"]).isoformat()


async def test_at_the_time_question_a_half_day_or_another_day_changes_what_is_offered(city):
    form, d = ValidateBookForm(), CollectingDispatcher()
    day, other = _open_day(), _open_day(1)
    slots = {"facility": "bv-trung-uong-hue", "service": "tim-mach", "visit_day": day.isoformat(),
             "day_part": None}
    assert await form.validate_slot_id("chiều", d, tracker("chiều", slots=slots), {}) == {
        "slot_id": None, "day_part": "afternoon"}
    await ActionAskSlotId().run(d, tracker(slots={**slots, "day_part": "afternoon"}), {})
    assert [b["title"] for b in d.messages[0]["buttons"]] == [
        "1 giờ 30 chiều", "1 giờ 50 chiều", "2 giờ 10 chiều", "2 giờ 30 chiều"]
    d = CollectingDispatcher()
    change = f"ko, đổi qua {_said(other)}"
    other_day = await form.validate_slot_id(change, d, tracker(change, slots=slots), {})
    assert other_day == {"slot_id": None, "visit_day": other.isoformat(), "day_part": None}
    assert await form.validate_slot_id("8 giờ tối", d, tracker("8 giờ tối", slots=slots), {}) == {"slot_id": None}
    assert said(d) == ["utter_bad_slot"]


async def test_at_the_summary_a_correction_names_what_changes(city):
    form, d = ValidateBookForm(), CollectingDispatcher()
    day, other = _open_day(), _open_day(1)
    slots = {"facility": "bv-trung-uong-hue", "service": "tim-mach", "visit_day": day.isoformat(),
             "day_part": "afternoon", "slot_id": "some-slot"}

    async def confirm(text: str, **kwargs) -> dict:
        return await form.validate_booking_confirmed(text, d, tracker(text, slots=slots, **kwargs), {})

    assert await confirm("đặt đi", intent="affirm") == {"booking_confirmed": "yes"}
    assert await confirm(f"không, đổi qua {_said(other)}") == {
        "slot_id": None, "visit_day": other.isoformat(), "day_part": None, "booking_confirmed": None}
    assert await confirm("số điện thoại là 0914 222 333", entities=[("phone", "0914222333")]) == {
        "patient_phone": "0914222333", "user_phone": "0914222333", "booking_confirmed": None}
    assert await confirm('/inform{"edit_field":"service"}', entities=[("edit_field", "service")]) == {
        "service": None, "visit_day": None, "day_part": None, "slot_id": None, "booking_confirmed": None}
    assert await confirm('/inform{"edit_field":"facility"}', entities=[("edit_field", "facility")]) == {
        "facility": None, "visit_day": None, "day_part": None, "slot_id": None, "booking_confirmed": None}
    assert await confirm("không") == {"booking_confirmed": None}
    assert said(d) == []


async def test_a_day_named_in_the_request_is_kept_and_checked_once_place_and_service_are_known(city):
    form, d = ValidateBookForm(), CollectingDispatcher()
    day, saturday = _open_day(), _closed_day()
    request = "khám mắt sáng thứ hai tuần sau"
    assert await form.validate_visit_day(request, d, tracker(request, intent="book_clinic"), {}) == {
        "visit_day": _next_week(0).isoformat(), "day_part": "morning"}
    full = f"khám tim ở bệnh viện trung ương sáng {_said(day)}"
    checked = await form.validate_visit_day(full, d, tracker(full, intent="book_clinic", slots={
        "facility": "bv-trung-uong-hue", "service": "tim-mach"}), {})
    assert checked == {"visit_day": day.isoformat(), "day_part": "morning"}
    plain = "tui muốn đặt lịch khám"
    assert await form.validate_visit_day(plain, d, tracker(plain, intent="book_clinic"), {}) == {"visit_day": None}
    assert said(d) == []  # nothing said about a day the citizen did not name

    # The place is answered later: a day with no free time (a Saturday) is forgotten, and said so.
    weekend = {"service": "tim-mach", "visit_day": saturday.isoformat(), "requested_slot": "facility"}
    button = tracker('/inform{"facility":"bv-trung-uong-hue"}', entities=[("facility", "bv-trung-uong-hue")],
                     slots=weekend)
    assert await form.validate_facility("bv-trung-uong-hue", d, button, {}) == {
        "facility": "bv-trung-uong-hue", "visit_day": None, "day_part": None, "slot_id": None}
    weekday = {**weekend, "visit_day": day.isoformat()}
    button = tracker('/inform{"facility":"bv-trung-uong-hue"}', entities=[("facility", "bv-trung-uong-hue")],
                     slots=weekday)
    assert await form.validate_facility("bv-trung-uong-hue", d, button, {}) == {"facility": "bv-trung-uong-hue"}
    # Or the service is: the same check.
    answer = tracker("khám tim", entities=[("service", "tim-mach")],
                     slots={"facility": "bv-trung-uong-hue", "visit_day": saturday.isoformat()})
    assert await form.validate_service("khám tim", d, answer, {}) == {
        "service": "tim-mach", "visit_day": None, "day_part": None, "slot_id": None}
    assert said(d) == ["utter_day_unavailable"] * 2


async def test_a_whole_request_fills_place_service_and_day_at_once(city):
    form, d = ValidateBookForm(), CollectingDispatcher()
    day = _open_day()
    request = f"dat lich kham tong quat o bv trung uong sang ngay {_said(day)}"
    extracted = {"facility": "bv-trung-uong-hue", "service": "kham-tong-quat", "visit_day": request}
    activation = tracker(request, intent="book_clinic", slots=extracted,
                         events=[{"event": "user", "text": request},
                                 *({"event": "slot", "name": k, "value": v} for k, v in extracted.items())])
    events = await form.run(d, activation, {"slots": {}, "forms": {"book_form": {"required_slots": list(extracted)}}})
    assert SlotSet("visit_day", day.isoformat()) in events and SlotSet("day_part", "morning") in events
    assert said(d) == []


async def test_the_patients_name(city):
    form, d = ValidateBookForm(), CollectingDispatcher()
    day, other = _open_day(), _open_day(1)
    slots = {"facility": "bv-trung-uong-hue", "service": "tim-mach", "visit_day": day.isoformat(),
             "slot_id": "some-slot"}

    async def name(text: str) -> dict:
        return await form.validate_patient_name(text, d, tracker(text, slots=slots), {})

    assert await name("nguyễn thị lan") == {"patient_name": "Nguyễn Thị Lan", "user_name": "Nguyễn Thị Lan"}
    assert await name("Lê Thị Mai") == {"patient_name": "Lê Thị Mai", "user_name": "Lê Thị Mai"}  # not tomorrow
    assert await name(f"ko, đổi qua {_said(other)}") == {"patient_name": None, "slot_id": None,
                                                         "visit_day": other.isoformat(), "day_part": None}
    assert said(d) == []
    for not_a_name in ("Lan", "Lan 72 tuổi", "không phải", "thôi khỏi"):
        assert await name(not_a_name) == {"patient_name": None}
    assert said(d) == ["utter_bad_name"] * 4


async def test_a_half_day_with_every_time_taken_is_said_to_be_full(city):
    day = _open_day()
    start = datetime.fromisoformat(f"{day.isoformat()}T12:00:00+07:00")
    afternoon = await city.fhir.free_slots("bv-trung-uong-hue-tim-mach", start, start + timedelta(hours=12))
    assert afternoon
    for i, slot in enumerate(afternoon):
        await city.fhir.book(slot["id"], "Nguyễn Văn An", "0905123456", f"web-test-{i:04d}")
    form, d = ValidateBookForm(), CollectingDispatcher()
    slots = {"facility": "bv-trung-uong-hue", "service": "tim-mach", "visit_day": day.isoformat()}
    assert await form.validate_slot_id("chiều", d, tracker("chiều", slots=slots), {}) == {"slot_id": None}
    assert said(d) == ["utter_part_full"] and d.messages[0]["part"] == "chiều"


async def test_a_half_day_asked_for_at_the_time_question_is_not_a_miss(city):
    form = ValidateBookForm()
    domain = {"slots": {}, "forms": {"book_form": {"required_slots": ["slot_id"]}}}
    afternoon = tracker("buổi chiều", intent="inform",
                        slots={"requested_slot": "slot_id", "form_misses": 1, "facility": "bv-trung-uong-hue",
                               "service": "tim-mach", "visit_day": _open_day().isoformat()},
                        events=[{"event": "user", "text": "buổi chiều"},
                                {"event": "slot", "name": "slot_id", "value": "buổi chiều"}])
    d = CollectingDispatcher()
    assert await form.run(d, afternoon, domain) == [SlotSet("slot_id", None), SlotSet("day_part", "afternoon"),
                                                    SlotSet("form_misses", 0)]
    assert said(d) == []


def test_four_choices_morning_first():
    def slot(hour, minute):
        return {"id": f"{hour}{minute}", "start": f"2026-12-01T{hour:02d}:{minute:02d}:00+07:00"}
    day = [slot(7, 0), slot(7, 20), slot(7, 40), slot(13, 30), slot(13, 50), slot(14, 10)]
    assert [s["id"] for s in slot_choices(day, None)] == ["70", "720", "1330", "1350"]
    assert [s["id"] for s in slot_choices(day, "afternoon")] == ["1330", "1350", "1410"]
    assert [s["id"] for s in slot_choices(day[:3], None)] == ["70", "720", "740"]


async def _book(city, slot_id: str, name="Nguyễn Thị Lan", phone="0905123456"):
    slots = {"facility": "bv-trung-uong-hue", "service": "tim-mach", "slot_id": slot_id,
             "patient_name": name, "patient_phone": phone, "booking_confirmed": "yes"}
    d = CollectingDispatcher()
    events = await ActionBookAppointment().run(d, tracker("đặt lịch", intent="affirm", slots=slots), {})
    return d, events


async def _first_free_slot(city) -> dict:
    start = datetime.fromisoformat(f"{_open_day().isoformat()}T00:00:00+07:00")
    return (await city.fhir.free_slots("bv-trung-uong-hue-tim-mach", start, start + timedelta(days=1)))[0]


async def test_book_then_cancel(city):
    slot = await _first_free_slot(city)
    d, events = await _book(city, slot["id"])
    assert said(d) == ["utter_booked"]
    code = d.messages[0]["code"]
    assert events == [*forms.clear("book_form"), SlotSet("user_name", "Nguyễn Thị Lan"),
                      SlotSet("user_phone", "0905123456")]
    assert d.messages[0]["code_spoken"] == f"LK {code[3:6]} {code[6:]}"
    assert (await city.fhir.slot(slot["id"]))["status"] == "busy"

    d = CollectingDispatcher()
    await ActionAskAppointmentId().run(d, tracker("hủy lịch", intent="cancel_appointment"), {})
    assert [b["payload"] for b in d.messages[0]["buttons"]] == [f'/inform{{"appointment_id":"{code}"}}']
    form = ValidateCancelForm()
    picked = tracker(entities=[("appointment_id", code)])
    assert await form.validate_appointment_id(code, d, picked, {}) == {"appointment_id": code}
    assert await form.validate_appointment_id("LK-000000", d, tracker("LK-000000"), {}) == {"appointment_id": None}
    d = CollectingDispatcher()
    events = await ActionCancelAppointment().run(d, tracker(slots={"appointment_id": code, "cancel_confirmed": "yes"}),
                                                 {})
    assert said(d) == ["utter_cancelled"] and events == forms.clear("cancel_form")
    assert (await city.fhir.slot(slot["id"]))["status"] == "free"


async def test_a_slot_just_taken_offers_the_next_ones(city):
    slot = await _first_free_slot(city)
    await city.fhir.book(slot["id"], "Trần Văn Ba", "0914000111", "web-someone-else")
    d, events = await _book(city, slot["id"])
    assert said(d) == ["utter_slot_taken"]
    assert events == [SlotSet("slot_id", None), SlotSet("booking_confirmed", None), FollowupAction("book_form")]


async def test_a_retried_booking_that_went_through_is_not_taken(city):
    slot = await _first_free_slot(city)
    await city.fhir.book(slot["id"], "Nguyễn Thị Lan", "0905123456", "web-test-0001")
    d, _ = await _book(city, slot["id"])  # the same sender: the first try had gone through
    assert said(d) == ["utter_booked"]


async def test_nothing_to_cancel_closes_the_form(city):
    d = CollectingDispatcher()
    events = await ActionAskAppointmentId().run(d, tracker("hủy lịch", intent="cancel_appointment"), {})
    assert said(d) == ["utter_no_appointments"]
    assert events[0].get("event") == "active_loop" and events[0].get("name") is None


async def test_two_unusable_answers_in_a_row_offer_the_ways_out(city):
    form, domain = ValidateBookForm(), {"slots": {}, "forms": {"book_form": {"required_slots": ["facility"]}}}

    def answer(misses):
        return tracker("asdfgh", intent="out_of_scope", slots={"requested_slot": "facility", "form_misses": misses},
                       events=[{"event": "user", "text": "asdfgh"},
                               {"event": "slot", "name": "facility", "value": "asdfgh"}])

    d = CollectingDispatcher()
    assert (await form.run(d, answer(None), domain))[-1] == SlotSet("form_misses", 1)
    assert said(d) == ["utter_bad_facility"]
    d = CollectingDispatcher()
    assert (await form.run(d, answer(1), domain))[-1] == SlotSet("form_misses", 0)
    assert said(d) == ["utter_bad_facility", "utter_form_stuck"]


async def test_a_message_that_answers_nothing_is_not_a_miss(city):
    # Nothing set at all, so Rasa rejects the form's turn and the repeat and stop rules run.
    form, domain = ValidateBookForm(), {"slots": {}, "forms": {"book_form": {"required_slots": ["facility"]}}}
    repeat = tracker("nói lại", intent="repeat", slots={"requested_slot": "facility", "form_misses": 1})
    d = CollectingDispatcher()
    assert await form.run(d, repeat, domain) == []
    assert said(d) == []


async def test_a_place_and_a_service_it_lacks_in_one_request_are_refused_once(city):
    # "tui muốn khám răng ở trạm y tế phường Vỹ Dạ sáng thứ năm": that station has no dentist.
    request = "tui muốn khám răng ở trạm y tế phường Vỹ Dạ sáng thứ năm"
    extracted = {"facility": "tyt-vy-da", "service": "rang-ham-mat", "visit_day": request}
    activation = tracker(request, intent="book_clinic", slots=extracted,
                         entities=[("facility", "tyt-vy-da"), ("service", "rang-ham-mat")],
                         events=[{"event": "user", "text": request},
                                 *({"event": "slot", "name": k, "value": v} for k, v in extracted.items())])
    d = CollectingDispatcher()
    events = await ValidateBookForm().run(d, activation, {"slots": {}, "forms": {"book_form": {
        "required_slots": list(extracted)}}})
    assert said(d) == ["utter_bad_service"]
    assert SlotSet("facility", "tyt-vy-da") in events and SlotSet("service", None) in events


def earliest_day(payload: str) -> date:
    day, month, year = payload.split()[0].split("/")
    return date(int(year), int(month), int(day))


@pytest.fixture
def before_opening(clock_at):
    """A working morning before the clinics open, set before cityapi seeds its slots: the earliest day then has
    other free times (late in a real afternoon its last time may be the earliest)."""
    clock_at(datetime(2026, 12, 7, 7, 0))


async def test_the_earliest_time_taken_between_its_offer_and_the_tap_is_said(before_opening, city):
    slots = {"facility": "bv-trung-uong-hue", "service": "tim-mach", "visit_day": None}
    d = CollectingDispatcher()
    await ActionAskVisitDay().run(d, tracker(slots=slots), {})
    earliest = d.messages[0]["buttons"][-1]
    day, at = earliest_day(earliest["payload"]), earliest["payload"].split()[1]
    start = datetime.fromisoformat(f"{day.isoformat()}T00:00:00+07:00")
    free = await city.fhir.free_slots("bv-trung-uong-hue-tim-mach", start, start + timedelta(days=1))
    first = next(s for s in free if datetime.fromisoformat(s["start"]).strftime("%H:%M") == at)
    await city.fhir.book(first["id"], "Trần Văn Ba", "0914000111", "web-someone-else")  # another citizen's tap
    d = CollectingDispatcher()
    changes = await ValidateBookForm().validate_visit_day(earliest["payload"], d, tracker(slots=slots), {})
    assert changes == {"visit_day": earliest_day(earliest["payload"]).isoformat(), "day_part": None}  # no slot_id
    assert said(d) == ["utter_bad_slot"]  # then that day's times are offered
