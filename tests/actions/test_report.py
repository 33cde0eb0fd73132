"""The report form's checks and its submission, against a real cityapi."""
from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions import forms
from actions.report import ActionAskCategory, ActionAskReportConfirmed, ActionSubmitReport, ValidateReportForm
from tests.actions.conftest import said, tracker

FILLED = {"category": "rac_thai", "address": "12 kiệt 5 Chi Lăng, phường Phú Xuân",
          "description": "Rác đổ ba ngày chưa ai dọn", "photo": "none", "report_phone": "0905123456",
          "report_confirmed": "yes"}


async def test_category_from_entity_text_or_nothing():
    form, d = ValidateReportForm(), CollectingDispatcher()
    assert form.validate_category("ổ gà", d, tracker("ổ gà", entities=[("category", "duong_hu_hong")]), {}) \
        == {"category": "duong_hu_hong"}
    assert form.validate_category("ngập nước", d, tracker("ngập nước"), {}) == {"category": "ngap_ung"}
    described = "cây phượng bật gốc nằm ngang đường, xe không qua được"
    assert form.validate_category(described, d, tracker(described), {}) == {"category": "cay_xanh"}
    assert form.validate_category("chuyện chi đó", d, tracker("chuyện chi đó"), {}) == {"category": None}
    assert said(d) == ["utter_bad_category"]


async def test_a_request_that_describes_its_problem_is_asked_to_confirm_a_guess():
    d = CollectingDispatcher()
    request = "chừ ngoài đường Trần Hưng Đạo có cây to ngã chắn hết lối đi"
    await ActionAskCategory().run(d, tracker(request, intent="report_issue"), {})
    assert said(d) == ["utter_ask_category_guess"] and d.messages[0]["category_name"] == "cây đổ, cây gãy"
    buttons = d.messages[0]["buttons"]
    assert buttons[0] == {"title": "Đúng", "payload": '/inform{"category":"cay_xanh"}'} and len(buttons) == 10
    d = CollectingDispatcher()
    await ActionAskCategory().run(d, tracker("tui muốn phản ánh", intent="report_issue"), {})
    assert said(d) == ["Dạ, bác muốn phản ánh việc chi ạ?"] and len(d.messages[0]["buttons"]) == 9


async def test_address_description_photo_phone(city):
    form, d = ValidateReportForm(), CollectingDispatcher()
    shared = tracker('/inform{"lat":"16.4637","long":"107.5909"}', entities=[("lat", "16.4637"),
                                                                             ("long", "107.5909")])
    assert form.validate_address(shared.latest_message["text"], d, shared, {}) == {
        "address": "Vị trí bác đã gửi trên bản đồ", "lat": "16.4637", "long": "107.5909"}
    assert form.validate_address("  kiệt 5   Chi Lăng ", d, tracker(), {}) == {"address": "kiệt 5 Chi Lăng"}
    assert form.validate_address("ở", d, tracker(), {}) == {"address": None}
    assert form.validate_address("ừ đúng", d, tracker("ừ đúng", intent="affirm"), {}) == {"address": None}
    assert form.validate_address("không, ở đường Lê Lợi", d, tracker(intent="deny"), {}) == {
        "address": "không, ở đường Lê Lợi"}
    assert form.validate_description("rác", d, tracker(), {}) == {"description": None}
    assert form.validate_description("x" * 4001, d, tracker(), {}) == {"description": None}
    assert await form.validate_photo("không có", d, tracker(intent="deny"), {}) == {"photo": "none"}
    assert await form.validate_photo("ảnh", d, tracker(), {}) == {"photo": None}
    assert form.validate_report_phone("090 512 3456", d, tracker(), {}) == {
        "report_phone": "0905123456", "user_phone": "0905123456"}
    assert form.validate_report_phone("bỏ qua", d, tracker(intent="deny"), {}) == {"report_phone": "none"}
    assert form.validate_report_phone("12345", d, tracker(), {}) == {"report_phone": None}
    assert said(d) == ["utter_bad_address", "utter_bad_address", "utter_bad_description", "utter_bad_description_long",
                       "utter_bad_photo", "utter_bad_phone"]


async def test_a_correction_at_the_summary_changes_that_field_and_asks_again():
    form, d = ValidateReportForm(), CollectingDispatcher()
    assert form.validate_report_confirmed("gửi đi", d, tracker("gửi đi", intent="affirm"), {}) == {
        "report_confirmed": "yes"}
    correction = tracker("không, ở đường Lê Lợi", intent="deny")
    assert form.validate_report_confirmed("không, ở đường Lê Lợi", d, correction, {}) == {
        "report_confirmed": None, "address": "đường Lê Lợi", "lat": None, "long": None}
    phone = tracker("sai rồi, số tui 0914 000 111", intent="deny", entities=[("phone", "0914 000 111")])
    assert form.validate_report_confirmed(phone.latest_message["text"], d, phone, {}) == {
        "report_confirmed": None, "report_phone": "0914000111", "user_phone": "0914000111"}
    edit = tracker('/inform{"edit_field":"description"}', entities=[("edit_field", "description")])
    assert form.validate_report_confirmed(edit.latest_message["text"], d, edit, {}) == {
        "description": None, "report_confirmed": None}


async def test_the_summary_or_the_question_what_to_fix():
    summary = {"event": "bot", "text": "...", "metadata": {"utter_action": "utter_report_summary"}}
    no = {"event": "user", "text": "không", "parse_data": {"intent": {"name": "deny"}}}
    d = CollectingDispatcher()
    await ActionAskReportConfirmed().run(d, tracker("không", intent="deny", slots=FILLED, events=[summary, no]), {})
    assert said(d) == ["utter_which_field"]
    assert [b["payload"] for b in d.messages[0]["buttons"]][0] == '/inform{"edit_field":"category"}'
    d = CollectingDispatcher()  # "no" to the phone question (skip) leads to the summary
    phone_question = {"event": "bot", "text": "...", "metadata": {"utter_action": "utter_ask_report_phone"}}
    await ActionAskReportConfirmed().run(d, tracker("bỏ qua", intent="deny", slots=FILLED,
                                                     events=[phone_question, no]), {})
    assert said(d) == ["utter_report_summary"]
    assert d.messages[0]["phone_text"] == "0905 123 456" and d.messages[0]["category_name"] == "Rác thải"


async def test_submit_files_the_report_in_open311(city):
    d = CollectingDispatcher()
    events = await ActionSubmitReport().run(d, tracker("gửi đi", intent="affirm", slots=FILLED), {})
    assert events == forms.clear("report_form")
    assert said(d) == ["utter_report_sent"]
    case_id = d.messages[0]["case_id"]
    assert d.messages[0]["case_id_spoken"] == " ".join(["PA", case_id[3:7], case_id[8:11], case_id[11:]])
    report = await city.open311.get(case_id)
    assert report["service_code"] == "rac_thai"
    assert report["description"] == "Rác đổ ba ngày chưa ai dọn"
    assert report["address"] == "12 kiệt 5 Chi Lăng, phường Phú Xuân"
    mine = await city.open311.of_account("web-test-0001")
    assert [r["service_request_id"] for r in mine] == [case_id]


async def test_a_typed_payload_takes_only_our_own_photos_and_places_in_hue(city):
    form, d = ValidateReportForm(), CollectingDispatcher()
    ours = f"{city.settings.gateway_url}/uploads/{'a1' * 16}.jpg"

    def photo(url: str):
        return tracker(f'/inform{{"photo_url":"{url}"}}', entities=[("photo_url", url)])

    assert await form.validate_photo(ours, d, photo(ours), {}) == {"photo": ours}
    for url in ("http://evil.example/x.jpg", f"{city.settings.gateway_url}/uploads/../secrets.env",
                f"{city.settings.gateway_url}/static/chat.js", f"http://evil.example/?{ours}"):
        assert await form.validate_photo(url, d, photo(url), {}) == {"photo": None}
    assert said(d) == ["utter_bad_photo"] * 4
    d = CollectingDispatcher()
    for lat, long in (("48.8584", "2.2945"), ("16.46", "nan"), ("16.46", ""), ("1e9", "107.59")):
        typed = tracker(f'/inform{{"lat":"{lat}","long":"{long}"}}', entities=[("lat", lat), ("long", long)])
        assert form.validate_address(typed.latest_message["text"], d, typed, {}) == {
            "address": None, "lat": None, "long": None}
    assert said(d) == ["utter_location_outside"] * 4


async def test_city_down_keeps_the_report_and_sends_it_once_later(city_down, city):
    from actions import services as services_module

    services_module.use(city_down)
    d = CollectingDispatcher()
    events = await ActionSubmitReport().run(d, tracker("gửi đi", intent="affirm", slots=FILLED), {})
    assert events == forms.clear("report_form")
    assert said(d) == ["utter_report_queued"]
    assert len(await city_down.store.unsent("web-test-0001")) == 1
    assert await city_down.store.drain(city_down.open311) == 0  # still down: kept
    # The city is back (same store, now reaching the real cityapi).
    assert await city_down.store.drain(city.open311) == 1
    assert await city_down.store.drain(city.open311) == 0
    assert await city_down.store.unsent() == []
    mine = await city.open311.of_account("web-test-0001")
    assert len(mine) == 1 and mine[0]["description"] == "Rác đổ ba ngày chưa ai dọn"


async def test_one_confirmation_run_on_two_action_servers_is_one_report(city_down, city):
    """The proxy sends a turn to the second action server when the first is too slow; both may finish."""
    from actions import services as services_module

    confirmed = {"event": "user", "text": "gửi đi", "message_id": "3f2a9c0d", "parse_data": {}}
    turn = tracker("gửi đi", intent="affirm", slots=FILLED, events=[confirmed])
    for _ in range(2):
        run = CollectingDispatcher()
        await ActionSubmitReport().run(run, turn, {})
        assert said(run) == ["utter_report_sent"]
    mine = await city.open311.of_account("web-test-0001")
    assert len(mine) == 1 and mine[0]["service_request_id"] == run.messages[0]["case_id"]
    services_module.use(city_down)  # the city down: kept once, whichever server kept it first
    for _ in range(2):
        await ActionSubmitReport().run(CollectingDispatcher(), turn, {})
    assert len(await city_down.store.unsent("web-test-0001")) == 1
    another = tracker("gửi đi", intent="affirm", slots=FILLED, events=[{**confirmed, "message_id": "77aa01"}])
    await ActionSubmitReport().run(CollectingDispatcher(), another, {})  # a new confirmation: a new report
    assert len(await city_down.store.unsent("web-test-0001")) == 2
