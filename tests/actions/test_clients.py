"""The city API clients against a real cityapi: what a citizen types never becomes a path."""
from __future__ import annotations

import logging

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.booking import ValidateBookForm
from actions.clients.fhir import SlotTaken
from actions.clients.http import CityRefused
from tests.actions.conftest import said, tracker

TYPED_IDS = ["../Slot/1", "..", "bv-trung-uong-hue/../../open311/v2/services.json", "x?_count=1", "%2e%2e", ""]


@pytest.mark.parametrize("typed", TYPED_IDS)
async def test_a_typed_id_names_nothing(city, typed):
    assert await city.fhir.location(typed) is None
    assert await city.fhir.slot(typed) is None
    assert await city.fhir.schedules(typed) == []
    assert await city.open311.get(typed) is None
    with pytest.raises(CityRefused):
        await city.fhir.cancel(typed)
    with pytest.raises(SlotTaken):
        await city.fhir.book(typed, "Nguyễn Thị Lan", "0905123456", "web-test-0001")


async def test_real_ids_still_work(city):
    assert (await city.fhir.location("bv-trung-uong-hue"))["resourceType"] == "Location"
    assert await city.fhir.schedules("bv-trung-uong-hue")


async def test_a_facility_typed_as_a_path_is_no_facility(city):
    form, d = ValidateBookForm(), CollectingDispatcher()
    assert await form.validate_facility("../Slot/1", d, tracker("../Slot/1"), {}) == {"facility": None}
    assert said(d) == ["utter_bad_facility"]


async def test_the_key_travels_outside_the_url(city, caplog):
    with caplog.at_level(logging.INFO, logger="aiohttp.access"):
        assert await city.open311.of_account("web-test-0001") == []
        await city.open311.create({"service_code": "rac_thai", "address_string": "12 Lê Lợi",
                                   "description": "Rác đổ ba ngày"}, "web-test-0001:key-1")
    lines = [m for m in caplog.messages if "/open311/" in m]
    assert len(lines) == 2 and not any(city.settings.api_key in m or "api_key" in m for m in lines)
