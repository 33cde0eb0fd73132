"""The place a request names, read from its own words."""
from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.places import Place, place_in
from actions.report import ActionAskAddress, ValidateReportForm
from tests.actions.conftest import said, tracker


@pytest.mark.parametrize("text, ward, place", [
    ("ngoài đường Phan Đình Phùng có cái cột điện nghiêng sắp đổ", None,
     Place("đường Phan Đình Phùng", precise=False, street=True)),
    ("ngoai duong phan dinh phung co cot dien nghieng sap do", None,
     Place("duong phan dinh phung", precise=False, street=True)),
    ("trước số 12 đường Lê Lợi có ổ gà to lắm", None, Place("số 12 đường Lê Lợi", precise=True, street=True)),
    ("rac do day dau kiet 5 chi lang may bua nay", None, Place("kiet 5 chi lang", precise=True, street=True)),
    ("cây đổ ở kiệt 38 Phan Đình Phùng, phường Thuận Hóa", "Thuận Hóa",
     Place("kiệt 38 Phan Đình Phùng, phường Thuận Hóa", precise=True, street=True)),
    ("đèn đường hỏng cả tuần ở phường Vỹ Dạ", "Vỹ Dạ", Place("phường Vỹ Dạ", precise=False, street=True)),
    ("gần chợ Đông Ba nước ngập tới đầu gối", None, Place("gần chợ Đông Ba", precise=True, street=False)),
    ("ổ gà trên đường Hùng Vương gần cầu Trường Tiền", None,
     Place("đường Hùng Vương gần cầu Trường Tiền", precise=True, street=True)),
    ("den duong hong o duong le loi", None, Place("duong le loi", precise=False, street=True)),
    # 'đèn đường', 'đường ở nhà tui': the word, not a street
    ("đèn đường hỏng", None, None),
    ("đường ở nhà tui bị ổ gà", None, None),
    ("tui muốn phản ánh", None, None),
])
def test_the_place_a_request_names(text, ward, place):
    assert place_in(text, ward) == place


DOMAIN = {"slots": {}, "forms": {"report_form": {"required_slots": ["category", "address", "description"]}}}


def _request(text: str, category: str):
    """The report request as Rasa hands it to the form's validation: the kind of problem already extracted."""
    return tracker(text, intent="report_issue", entities=[("category", category)],
                   events=[{"event": "user", "text": text}, {"event": "slot", "name": "category", "value": category}])


async def test_a_street_named_in_the_request_is_kept_and_only_the_rest_is_asked(city):
    form, d = ValidateReportForm(), CollectingDispatcher()
    request = _request("ngoài đường Phan Đình Phùng có cái cột điện nghiêng sắp đổ", "den_duong")
    events = await form.run(d, request, DOMAIN)
    assert SlotSet("place_hint", "đường Phan Đình Phùng") in events and SlotSet("category", "den_duong") in events
    assert SlotSet("requested_slot", "address") in events and said(d) == []
    await ActionAskAddress().run(d, tracker(slots={"place_hint": "đường Phan Đình Phùng"}), {})
    assert said(d) == ["utter_ask_address_near"] and d.messages[0]["place"] == "đường Phan Đình Phùng"

    asked = {"place_hint": "đường Phan Đình Phùng", "requested_slot": "address"}
    assert form.validate_address("số 12", d, tracker("số 12", slots=asked), {}) == {
        "address": "số 12, đường Phan Đình Phùng"}
    assert form.validate_address("gần trường tiểu học", d, tracker("gần trường tiểu học", slots=asked), {}) == {
        "address": "gần trường tiểu học, đường Phan Đình Phùng"}
    assert form.validate_address("/deny", d, tracker("/deny", intent="deny", slots=asked), {}) == {
        "address": "đường Phan Đình Phùng"}  # "Không rõ số nhà"
    other = "à không, ở kiệt 3 Nguyễn Chí Thanh"
    assert form.validate_address(other, d, tracker(other, slots=asked), {}) == {"address": other}


async def test_a_findable_place_in_the_request_is_the_address(city):
    form, d = ValidateReportForm(), CollectingDispatcher()
    events = await form.run(d, _request("trước số 12 đường Lê Lợi có ổ gà to lắm", "duong_hu_hong"), DOMAIN)
    assert SlotSet("address", "số 12 đường Lê Lợi") in events and SlotSet("category", "duong_hu_hong") in events
    assert said(d) == []
    # Only in the request: an answer to another question is not read for a place.
    later = tracker("đường Lê Lợi", slots={"requested_slot": "description"})
    assert await form.extract_address(d, later, {}) == {}
