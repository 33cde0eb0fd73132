"""The city's services down at any step: a polite answer, the task left, never an error of the action server."""
from __future__ import annotations

import pytest
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import forms
from actions.booking import (
    ActionAskBookingConfirmed,
    ActionAskFacility,
    ActionAskService,
    ActionAskSlotId,
    ActionAskVisitDay,
    ActionBookAppointment,
    ValidateBookForm,
)
from actions.cancel import (
    ActionAskAppointmentId,
    ActionAskCancelConfirmed,
    ActionCancelAppointment,
    ValidateCancelForm,
)
from actions.status import ActionCheckStatus
from tests.actions.conftest import said, tracker

BOOKING = {"facility": "bv-trung-uong-hue", "service": "tim-mach", "visit_day": "2026-12-07", "slot_id": "421",
           "patient_name": "Nguyễn Thị Lan", "patient_phone": "0905123456", "booking_confirmed": "yes"}
# Each question of the booking, the answer given to it, and what had been answered before.
BOOKING_STEPS = [("facility", "bệnh viện trung ương", {}),
                 ("service", "khám tim", {"facility": "bv-trung-uong-hue"}),
                 ("visit_day", "thứ hai tuần sau", {"facility": "bv-trung-uong-hue", "service": "tim-mach"}),
                 ("slot_id", "9 giờ", {k: BOOKING[k] for k in ("facility", "service", "visit_day")})]
LEFT_BOOKING = [ActiveLoop(None), *forms.clear("book_form")]
LEFT_CANCEL = [ActiveLoop(None), *forms.clear("cancel_form")]


def _answer(form: str, asked: str, text: str, before: dict):
    return tracker(text, slots={**before, "requested_slot": asked}, active_loop=form,
                   events=[{"event": "user", "text": text}, {"event": "slot", "name": asked, "value": text}])


@pytest.mark.parametrize("asked, text, before", BOOKING_STEPS)
async def test_an_answer_while_the_city_is_down_leaves_the_booking(city_down, asked, text, before):
    d = CollectingDispatcher()
    domain = {"slots": {}, "forms": {"book_form": {"required_slots": [asked]}}}
    assert await ValidateBookForm().run(d, _answer("book_form", asked, text, before), domain) == LEFT_BOOKING
    assert said(d) == ["utter_city_down"]


@pytest.mark.parametrize("action", [ActionAskFacility, ActionAskService, ActionAskVisitDay, ActionAskSlotId,
                                    ActionAskBookingConfirmed])
async def test_a_question_that_needs_the_city_leaves_the_booking(city_down, action):
    d = CollectingDispatcher()
    assert await action().run(d, tracker(slots=BOOKING, active_loop="book_form"), {}) == LEFT_BOOKING
    assert said(d) == ["utter_city_down"]


async def test_the_booking_itself(city_down):
    d = CollectingDispatcher()
    assert await ActionBookAppointment().run(d, tracker("đặt đi", intent="affirm", slots=BOOKING), {}) == (
        forms.clear("book_form"))
    assert said(d) == ["utter_city_down"]
    d = CollectingDispatcher()  # after a booking left half-way, there is nothing to book and nothing to say
    assert await ActionBookAppointment().run(d, tracker(slots={"booking_confirmed": None}), {}) == []
    assert said(d) == []


async def test_every_step_of_cancelling(city_down):
    chosen = {"appointment_id": "LK-482913"}
    for action in (ActionAskAppointmentId, ActionAskCancelConfirmed):
        d = CollectingDispatcher()
        assert await action().run(d, tracker(slots=chosen, active_loop="cancel_form"), {}) == LEFT_CANCEL
        assert said(d) == ["utter_city_down"]
    d = CollectingDispatcher()
    domain = {"slots": {}, "forms": {"cancel_form": {"required_slots": ["appointment_id"]}}}
    answer = _answer("cancel_form", "appointment_id", "LK-482913", {})
    assert await ValidateCancelForm().run(d, answer, domain) == LEFT_CANCEL
    assert said(d) == ["utter_city_down"]
    d = CollectingDispatcher()
    confirmed = tracker("hủy đi", intent="affirm", slots={**chosen, "cancel_confirmed": "yes"})
    assert await ActionCancelAppointment().run(d, confirmed, {}) == forms.clear("cancel_form")
    assert said(d) == ["utter_city_down"]


async def test_a_status_check(city_down):
    d = CollectingDispatcher()
    assert await ActionCheckStatus().run(d, tracker("PA-2026-000123"), {}) == [SlotSet("case_id", None)]
    assert said(d) == ["utter_city_down"]


async def test_an_appointment_gone_meanwhile_is_chosen_again(city):
    d = CollectingDispatcher()
    events = await ActionAskCancelConfirmed().run(d, tracker(slots={"appointment_id": "LK-000001"},
                                                             active_loop="cancel_form"), {})
    # Nothing else upcoming either: the cancel task ends, said so.
    assert said(d) == ["utter_bad_appointment", "utter_no_appointments"]
    assert events[:2] == [SlotSet("appointment_id", None), SlotSet("requested_slot", "appointment_id")]
    assert ActiveLoop(None) in events
