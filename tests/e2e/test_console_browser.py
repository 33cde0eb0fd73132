"""The officer console and the web chat in headless Chromium, against the running stack: a citizen asks for a
person, an officer takes the conversation live, answers, changes the citizen's report, and hands back."""
from __future__ import annotations

import json
import urllib.parse
import urllib.request
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from tests.conftest import API_KEY, REPORTS
from tests.e2e.test_console import PASSWORD, officers  # noqa: F401 - the accounts fixture
from tests.e2e.test_webchat_browser import ARGS, CHROMIUM, PHONE

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"  # kept after the run for a reviewer (var/ is never committed)
DESKTOP, TABLET = {"width": 1366, "height": 900}, {"width": 820, "height": 1180}
HOSTILE = '<img src=x onerror="window.__xss=1"> <script>window.__xss=2</script>'


def file_report(stack, sender: str) -> str:
    form = urllib.parse.urlencode({"service_code": "rac_thai", "address_string": "kiệt 5 Phan Bội Châu",
                                   "description": "Rác đổ ba ngày chưa ai dọn", "account_id": sender,
                                   "api_key": API_KEY}).encode()
    with urllib.request.urlopen(f"{stack.city}/open311/v2/requests.json", form, timeout=10) as response:
        return json.loads(response.read())[0]["service_request_id"]


def report_status(stack, case_id: str) -> str:
    with urllib.request.urlopen(f"{stack.city}/open311/v2/requests/{case_id}.json?extensions=true",
                                timeout=10) as response:
        return json.loads(response.read())[0]["extended_attributes"]["detailed_status"]


def log_in(page, stack, username: str) -> None:
    page.goto(stack.gateway + "/console")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_test_id("who")).to_contain_text(officers_name(username))


def officers_name(username: str) -> str:
    from tests.e2e.test_console import ACCOUNTS

    return ACCOUNTS[username][0]


def test_an_officer_takes_over_a_web_chat_in_the_browser(stack, officers):  # noqa: F811
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        errors: list[str] = []
        citizen = browser.new_context(viewport=PHONE, locale="vi-VN").new_page()
        lan = browser.new_context(viewport=DESKTOP, locale="vi-VN").new_page()
        minh = browser.new_context(viewport=TABLET, locale="vi-VN").new_page()
        for page in (citizen, lan, minh):
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda message: errors.append(message.text)
                    if "Content Security Policy" in message.text else None)

        citizen.goto(stack.gateway + "/")
        expect(citizen.get_by_test_id("bubble-bot").first).to_contain_text("cháu chào bác")
        sender = citizen.evaluate("localStorage.getItem('trolyhue_sender')")
        case_id = file_report(stack, sender)
        log_in(lan, stack, "lan")  # before the citizen asks: the queue must update live

        citizen.get_by_test_id("helper-officer").click()
        expect(citizen.get_by_test_id("bubble-bot").last).to_contain_text("cán bộ")
        conversation = lan.locator("#queue button").filter(has_text="Bác xin gặp cán bộ").last
        expect(conversation).to_be_visible(timeout=20000)
        conversation.click()
        expect(lan.get_by_test_id("transcript")).to_contain_text("Gặp cán bộ")
        lan.get_by_test_id("take").click()
        expect(lan.get_by_test_id("notice")).to_contain_text("Bạn đang giữ")
        conversation_id = lan.locator("#queue button[aria-current='true']").get_attribute("data-conversation")

        lan.get_by_test_id("reply-text").fill("Dạ, cháu là cán bộ Lan. Bác cần cháu giúp chi ạ?")
        expect(citizen.get_by_test_id("status")).to_contain_text("Cán bộ Lê Thị Lan đang viết")
        lan.get_by_test_id("reply-choices").fill("Hỏi phản ánh, Việc khác")
        lan.get_by_test_id("send").click()
        expect(citizen.get_by_test_id("bubble-bot").last).to_contain_text("Cán bộ Lê Thị Lan", timeout=20000)
        expect(citizen.get_by_test_id("bubble-bot").last).to_contain_text("Bác cần cháu giúp chi ạ?")

        # A second officer cannot take it, and is told who holds it.
        log_in(minh, stack, "minh")
        minh.locator(f"#queue button[data-conversation='{conversation_id}']").click()
        minh.get_by_test_id("take").click()
        expect(minh.get_by_test_id("notice")).to_contain_text("Lê Thị Lan đang giữ")
        minh.screenshot(path=str(SCREENSHOTS / "console-tablet.png"), full_page=True)

        # The citizen answers with a button, then with text that must stay text in the console.
        citizen.get_by_test_id("choice").filter(has_text="Hỏi phản ánh").last.click()
        expect(lan.get_by_test_id("transcript")).to_contain_text("Hỏi phản ánh", timeout=20000)
        # The officer sees it before the chat's request has returned: a chat still waiting ignores Enter.
        expect(citizen.get_by_test_id("send")).to_be_enabled(timeout=20000)
        citizen.get_by_test_id("input").fill(HOSTILE)
        citizen.get_by_test_id("input").press("Enter")
        expect(lan.get_by_test_id("transcript").locator("li").last).to_have_text(
            "Bác" + HOSTILE, timeout=20000)
        assert lan.evaluate("window.__xss") is None and lan.locator("#transcript img").count() == 0

        # The officer moves the citizen's report on.
        report = lan.get_by_test_id("reports").locator("li").filter(has_text=case_id)
        report.locator("select").select_option("in_progress")
        report.get_by_role("button", name="Cập nhật trạng thái").click()
        expect(lan.get_by_test_id("notice")).to_contain_text("Đã cập nhật")
        assert report_status(stack, case_id) == "in_progress"
        lan.screenshot(path=str(SCREENSHOTS / "console-desktop.png"), full_page=True)

        # Handed back: the citizen is told, and the assistant answers the next message.
        lan.get_by_test_id("hand-back").click()
        expect(citizen.get_by_test_id("bubble-bot").last).to_contain_text("trợ lý đã quay lại", timeout=20000)
        citizen.get_by_test_id("input").fill("tui muốn phản ánh")
        citizen.get_by_test_id("input").press("Enter")
        expect(citizen.get_by_test_id("bubble-bot").last).to_contain_text("phản ánh việc chi")
        citizen.screenshot(path=str(SCREENSHOTS / "webchat-after-officer.png"), full_page=True)
        browser.close()
    assert not errors, errors
    REPORTS.append(f"console screenshots: {SCREENSHOTS}/console-desktop.png, console-tablet.png")
