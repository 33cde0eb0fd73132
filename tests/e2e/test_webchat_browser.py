"""The web chat page in headless Chromium against the running stack, on a phone-sized screen."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


@pytest.fixture
def page(stack):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 360, "height": 780}, locale="vi-VN")
        page = context.new_page()
        page.goto(stack.gateway + "/")
        yield page
        page.screenshot(path=str(stack.var / "webchat.png"))
        browser.close()


def test_an_elder_starts_a_report_with_buttons_and_typing_then_stops(page):
    bot = page.get_by_test_id("bubble-bot")
    expect(bot.first).to_contain_text("cháu chào bác")  # greeted without typing anything
    page.get_by_test_id("choice").filter(has_text="Phản ánh sự việc").click()
    expect(bot.last).to_contain_text("phản ánh việc chi")
    expect(page.get_by_test_id("bubble-user").last).to_have_text("Phản ánh sự việc")
    page.get_by_test_id("choice").filter(has_text="Ngập nước").click()
    expect(bot.last).to_contain_text("ở chỗ mô")
    page.get_by_test_id("input").fill("kiệt 12 Phan Bội Châu")
    page.get_by_test_id("input").press("Enter")
    expect(bot.last).to_contain_text("tả ngắn")
    page.get_by_test_id("helper-repeat").click()
    expect(bot.last).to_contain_text("tả ngắn")
    page.get_by_test_id("input").fill("thôi")
    page.get_by_test_id("send").click()
    expect(bot.last).to_contain_text(re.compile("dừng lại"))
    buttons = page.get_by_test_id("choice")
    assert min(box["height"] for box in (b.bounding_box() for b in buttons.all()) if box) >= 48
