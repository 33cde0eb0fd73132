"""The web chat page in headless Chromium against the running stack, on a phone-sized screen."""
from __future__ import annotations

import json
import re
import subprocess
import wave
from contextlib import contextmanager

import pytest
from playwright.sync_api import expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
# A microphone that plays a file: Chromium loops it for as long as the page records.
FAKE_MIC = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
PHONE = {"width": 360, "height": 780}

# Keeps every microphone stream the page opens and every status line it shows, for the checks below.
WATCH = """(() => {
  window.__streams = [];
  window.__statuses = [];
  const media = navigator.mediaDevices;
  if (media && media.getUserMedia) {
    const open = media.getUserMedia.bind(media);
    media.getUserMedia = (constraints) => open(constraints).then((s) => { window.__streams.push(s); return s; });
  }
  document.addEventListener("DOMContentLoaded", () => {
    const status = document.getElementById("status");
    new MutationObserver(() => window.__statuses.push(status.textContent)).observe(status, {childList: true});
  });
})();"""
MIC_RELEASED = """() => window.__streams.length > 0
  && window.__streams.every((s) => s.getTracks().every((t) => t.readyState === "ended"))"""
REFUSE_MIC = """navigator.mediaDevices.getUserMedia = () =>
  Promise.reject(new DOMException("Permission denied", "NotAllowedError"));"""
NO_RECORDER = "delete window.MediaRecorder;"

HOLD_LONGER = "Bác giữ nút trong lúc nói nghe."
NO_MIC = "Cháu không dùng được micrô. Bác nhập chữ giúp cháu nhé."
SPEECH_URL = re.compile(r"/api/speech/([0-9a-f]{32})\.mp3$")


@contextmanager
def chat_page(stack, name: str, args: tuple[str, ...] = (), microphone: bool = False, script: str = ""):
    """A fresh browser on the chat page, greeted; fails on any uncaught script error or CSP violation."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS + list(args))
        context = browser.new_context(viewport=PHONE, locale="vi-VN")
        if microphone:
            context.grant_permissions(["microphone"], origin=stack.gateway)
        context.add_init_script(script + WATCH)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        # The page keeps to its own Content-Security-Policy: a violation is logged as a console error.
        page.on("console", lambda message: errors.append(message.text)
                if "Content Security Policy" in message.text else None)
        page.goto(stack.gateway + "/")
        expect(page.get_by_test_id("bubble-bot").first).to_contain_text("cháu chào bác")
        yield page
        page.screenshot(path=str(stack.var / f"{name}.png"))
        browser.close()
        assert not errors


@pytest.fixture
def page(stack):
    with chat_page(stack, "webchat") as page:
        yield page


@pytest.fixture(scope="session")
def spoken_wav(tmp_path_factory) -> str:
    """'tôi muốn phản ánh rác' said by espeak-ng, with silence around it, as 16-bit PCM WAV."""
    folder = tmp_path_factory.mktemp("voice")
    raw, padded = folder / "raw.wav", folder / "spoken.wav"
    subprocess.run(["espeak-ng", "-v", "vi", "-s", "130", "-w", str(raw), "tôi muốn phản ánh rác"], check=True)
    with wave.open(str(raw)) as source:
        params, frames = source.getparams(), source.readframes(source.getnframes())
    assert params.sampwidth == 2 and params.nchannels == 1
    with wave.open(str(padded), "wb") as target:
        target.setparams(params)
        target.writeframes(bytes(int(params.framerate * 0.3) * 2) + frames + bytes(int(params.framerate * 1.5) * 2))
    return str(padded)


@pytest.fixture(scope="session")
def silent_wav(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("silence") / "silent.wav"
    with wave.open(str(path), "wb") as target:
        target.setnchannels(1)
        target.setsampwidth(2)
        target.setframerate(16000)
        target.writeframes(bytes(16000 * 2 * 2))
    return str(path)


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


def test_an_elder_holds_the_talk_button_speaks_and_is_answered(stack, spoken_wav):
    mic = (*FAKE_MIC, f"--use-file-for-fake-audio-capture={spoken_wav}")
    with chat_page(stack, "webchat-voice", args=mic, microphone=True) as page:
        bot, talk = page.get_by_test_id("bubble-bot"), page.get_by_test_id("talk")
        greeted = bot.count()
        expect(talk).to_contain_text("Giữ để nói")
        box = talk.bounding_box()
        assert box["height"] >= 56 and box["width"] >= 300  # big, and full width on a phone

        talk.hover()
        with page.expect_response(lambda r: r.url.endswith("/api/voice"), timeout=60_000) as answer:
            page.mouse.down()
            expect(talk).to_have_attribute("aria-pressed", "true")
            expect(talk).to_contain_text("Đang nghe… thả ra để gửi")
            expect(page.get_by_test_id("talk-timer")).to_have_text("2 giây", timeout=5_000)  # the counter runs
            page.wait_for_timeout(1_500)
            page.mouse.up()
            expect(talk).to_have_attribute("aria-pressed", "false")
        assert answer.value.status == 200, answer.value.text()
        heard = answer.value.json()["heard"].strip()
        assert heard  # what exactly depends on the recogniser, not on the page

        said = page.get_by_test_id("bubble-user").last
        expect(said).to_have_attribute("data-voice", "true")
        expect(said).to_contain_text(heard)
        expect(bot.nth(greeted)).to_be_visible()  # then the assistant answers, as for typed words
        assert page.evaluate("window.__statuses").count("Cháu đang nghe lại lời bác…") == 1
        page.wait_for_function(MIC_RELEASED)  # no recording sign left in the browser
        stored = json.loads(page.evaluate("sessionStorage.getItem('trolyhue_history')"))
        assert any(m["role"] == "user" and m.get("voice") and m["text"] == heard for m in stored)


def test_a_short_press_asks_to_hold_the_button_and_sends_nothing(stack, spoken_wav):
    mic = (*FAKE_MIC, f"--use-file-for-fake-audio-capture={spoken_wav}")
    with chat_page(stack, "webchat-tap", args=mic, microphone=True) as page:
        sent: list[str] = []
        page.on("request", lambda request: sent.append(request.url) if "/api/voice" in request.url else None)
        bot, talk = page.get_by_test_id("bubble-bot"), page.get_by_test_id("talk")
        greeted = bot.count()
        talk.hover()
        page.mouse.down()
        page.wait_for_timeout(200)
        page.mouse.up()
        expect(bot.last).to_have_text(HOLD_LONGER)
        talk.focus()  # the same with the keyboard
        page.keyboard.down("Space")
        page.keyboard.up("Space")
        expect(bot).to_have_count(greeted + 2)
        expect(bot.last).to_have_text(HOLD_LONGER)
        page.wait_for_function(MIC_RELEASED)
        page.wait_for_timeout(1_000)
        assert not sent
        assert page.get_by_test_id("bubble-user").count() == 0
        expect(talk).to_have_attribute("aria-pressed", "false")
        expect(talk).to_be_enabled()


def test_a_recording_the_assistant_cannot_use_gets_its_polite_answer_and_no_bubble(stack, silent_wav):
    mic = (*FAKE_MIC, f"--use-file-for-fake-audio-capture={silent_wav}")
    with chat_page(stack, "webchat-silent", args=mic, microphone=True) as page:
        bot, talk = page.get_by_test_id("bubble-bot"), page.get_by_test_id("talk")
        talk.hover()
        with page.expect_response(lambda r: r.url.endswith("/api/voice"), timeout=60_000) as answer:
            page.mouse.down()
            page.wait_for_timeout(1_500)
            page.mouse.up()
        assert answer.value.status == 422
        refusal = answer.value.json()
        assert refusal["reason"] in ("silent", "unheard") and refusal["error"].startswith("Dạ,")
        expect(bot.last).to_have_text(refusal["error"])
        assert page.get_by_test_id("bubble-user").count() == 0
        expect(talk).to_be_enabled()
        page.wait_for_function(MIC_RELEASED)


def test_answers_are_read_aloud_when_asked_and_the_setting_is_remembered(stack):
    with chat_page(stack, "webchat-speak") as page:
        toggle = page.get_by_test_id("speak-toggle")
        expect(toggle).to_have_attribute("aria-pressed", "false")
        toggle.click()
        expect(toggle).to_have_attribute("aria-pressed", "true")
        with page.expect_response(lambda r: "/api/speech/" in r.url, timeout=60_000) as spoken:
            page.get_by_test_id("input").fill("trợ giúp")
            page.get_by_test_id("input").press("Enter")
        played = spoken.value
        assert SPEECH_URL.search(played.url) and played.request.method == "GET"
        assert played.status == 200 and played.header_value("content-type").startswith("audio/mpeg")
        stored = json.loads(page.evaluate("sessionStorage.getItem('trolyhue_history')"))
        answers = [m for m in stored if m["role"] == "bot" and m.get("speech")]
        assert SPEECH_URL.search(played.url).group(1) in [m["speech"] for m in answers]

        page.reload()
        expect(toggle).to_have_attribute("aria-pressed", "true")
        listen = page.get_by_test_id("listen")
        expect(listen).to_have_count(len(answers))  # the "Nghe" buttons come back with the history
        assert min(b.bounding_box()["height"] for b in listen.all()) >= 48
        unplayed = next(m["speech"] for m in answers if m["speech"] != SPEECH_URL.search(played.url).group(1))
        with page.expect_response(lambda r: r.url.endswith(f"/api/speech/{unplayed}.mp3"), timeout=60_000) as heard:
            listen.and_(page.locator(f'[data-speech="{unplayed}"]')).first.click()
        assert heard.value.status == 200 and heard.value.header_value("content-type").startswith("audio/mpeg")

        toggle.click()  # off again: stays off
        page.reload()
        expect(toggle).to_have_attribute("aria-pressed", "false")
        for big in (False, True):  # nothing sticks out of a 360 px screen, with or without big text
            if big:
                page.get_by_test_id("font-toggle").click()
            overflow = page.evaluate("""() => [...document.querySelectorAll('button, .bubble, textarea')]
                .filter((e) => e.getBoundingClientRect().right > innerWidth + 0.5).length
                + Math.max(0, document.documentElement.scrollWidth - innerWidth)""")
            assert overflow == 0, f"overflow with big text={big}"


@pytest.mark.parametrize("case", ["refused", "no_recorder", "no_device"])
def test_without_a_microphone_the_page_says_so_politely_and_typing_still_works(stack, case):
    script = {"refused": REFUSE_MIC, "no_recorder": NO_RECORDER, "no_device": ""}[case]
    with chat_page(stack, f"webchat-nomic-{case}", script=script) as page:
        bot, talk = page.get_by_test_id("bubble-bot"), page.get_by_test_id("talk")
        if case == "no_recorder":  # known before any press
            expect(talk).to_have_attribute("aria-disabled", "true")
        talk.hover()
        page.mouse.down()
        page.wait_for_timeout(1_000)
        page.mouse.up()
        expect(bot.last).to_have_text(NO_MIC)
        expect(talk).to_have_attribute("aria-disabled", "true")
        expect(talk).to_have_attribute("aria-pressed", "false")
        expect(talk).to_contain_text("Micrô không dùng được")
        assert page.get_by_test_id("bubble-user").count() == 0
        page.get_by_test_id("input").fill("xin chào")
        page.get_by_test_id("send").click()
        expect(page.get_by_test_id("bubble-user").last).to_have_text("xin chào")
        expect(bot.last).not_to_have_text(NO_MIC)
