"""Phone calls over the Twilio Media Streams WebSocket, against the whole running stack.

The caller speaks espeak-ng Vietnamese in 20 ms μ-law frames in real time (tests/phone.py); what the
assistant says back is recognised with viet-asr. Synthetic speech is recognised imperfectly, so the
checks on words are loose, and what Rasa understood is read from its tracker.
"""
from __future__ import annotations

import asyncio
import json
import subprocess
import urllib.request
from pathlib import Path

import aiohttp
import pytest

from common.text import fold
from tests.conftest import REPORTS
from tests.e2e.conftest import HOTLINE_TOKEN
from tests.phone import FAST, Caller, ring, sign
from voice.asr import load_recognizer
from voice.codecs import PHONE_RATE, SAMPLE_RATE, decode
from voice.settings import VoiceSettings
from voice.tts import Espeak

ROOT = Path(__file__).resolve().parents[2]


def speech(text: str):
    return decode(Espeak("vi", 130).synthesize(text), SAMPLE_RATE)


def heard(pcm) -> str:
    return fold(load_recognizer(VoiceSettings()).transcribe(pcm, PHONE_RATE).text)


def tracker(stack, call: Caller) -> dict:
    address = (f"http://127.0.0.1:{stack.ports['RASA_PORT']}/conversations/call-{call.call_sid}/tracker"
               f"?token={stack.env['RASA_TOKEN']}")
    with urllib.request.urlopen(address, timeout=10) as response:
        return json.loads(response.read())


async def ended(stack, call: Caller) -> None:
    """The gateway logged the call's end (it cleans up after the socket closes, so give it a moment)."""
    for _ in range(100):
        if f"call call-{call.call_sid} ended" in stack.tail():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"call-{call.call_sid} did not end:\n{stack.tail()[-2000:]}")


def user_intents(stack, call: Caller) -> list[str]:
    return [e["parse_data"]["intent"]["name"] for e in tracker(stack, call)["events"] if e["event"] == "user"]


async def test_the_caller_is_greeted_and_keys_choose(stack):
    async with Caller(stack.gateway, HOTLINE_TOKEN, playback=FAST) as call:
        greeting = await call.listen()
        assert len(greeting) > 3 * PHONE_RATE  # seconds of speech, not a beep
        assert {"chao", "bam", "phim"} & set(heard(greeting).split())
        assert tracker(stack, call)["slots"]["user_phone"] == "0905123456"  # the caller's number, to call back
        await call.press("1")  # "phím 1: Phản ánh sự việc"
        question = await call.listen()
        assert len(question) > PHONE_RATE
        assert user_intents(stack, call)[-1] == "report_issue"
        await call.press("0")
        await call.listen()
        assert user_intents(stack, call)[-1] == "ask_human"


async def test_a_spoken_request_is_understood_and_answered_in_speech(stack):
    async with Caller(stack.gateway, HOTLINE_TOKEN, playback=FAST) as call:
        await call.listen()
        ended = await call.say(speech("tôi muốn gặp cán bộ"), SAMPLE_RATE)
        answer = await call.listen()
        assert call.first_audio_after(ended) is not None
        assert len(answer) > PHONE_RATE
        # Heard as the greeting's "Gặp cán bộ" choice (its payload) or read by the NLU: either way, a human.
        assert user_intents(stack, call)[-1] == "ask_human"
        # Hold on, or a call back outside office hours: which depends on the hour; both are spoken answers.
        said = [e for e in tracker(stack, call)["events"] if e["event"] == "bot" and e.get("text")][-1]
        assert said["metadata"]["utter_action"] in ("utter_handoff_hold", "utter_handoff_call_back")
        assert heard(answer).split()


async def test_talking_over_the_answer_clears_it(stack):
    async with Caller(stack.gateway, HOTLINE_TOKEN) as call:  # real time: the greeting is still playing
        while not call.played:  # the long greeting has started playing
            await asyncio.sleep(0.05)
        await call.say(speech("khoan đã, cho tôi hỏi"), SAMPLE_RATE)
        for _ in range(100):
            if any(e["event"] == "clear" for e in call.events):
                break
            await asyncio.sleep(0.05)
        assert any(e["event"] == "clear" for e in call.events)
        greeting_frames = len(call.played)
        assert greeting_frames < 8 * 50  # stopped well before the greeting's end


async def test_a_silent_caller_is_asked_twice_then_the_assistant_says_goodbye_and_hangs_up(stack):
    async with Caller(stack.gateway, HOTLINE_TOKEN, playback=FAST) as call:
        await call.listen()
        asks = [await call.listen(), await call.listen()]
        assert all(len(ask) > PHONE_RATE for ask in asks)
        assert {"nghe", "may", "phim", "bam", "giup", "noi", "can", "bo"} & set(heard(asks[0]).split())
        goodbye = await call.listen()
        assert len(goodbye) > PHONE_RATE
        for _ in range(200):
            if call.ws.closed:
                break
            await asyncio.sleep(0.1)
        assert call.ws.closed  # the assistant hung up
    await ended(stack, call)


async def test_hanging_up_ends_the_call_cleanly(stack):
    call = Caller(stack.gateway, HOTLINE_TOKEN, playback=FAST)
    await call.__aenter__()
    await call.listen()
    await call.say(speech("tôi muốn phản ánh"), SAMPLE_RATE)
    await call.hang_up()  # mid-answer
    await ended(stack, call)
    async with Caller(stack.gateway, HOTLINE_TOKEN, playback=FAST) as again:  # the line is free for the next caller
        assert len(await again.listen()) > PHONE_RATE


async def test_a_stream_opens_once_and_only_with_the_provider_signature(stack):
    async with aiohttp.ClientSession() as session:
        stream = await ring(session, stack.gateway, HOTLINE_TOKEN, "CA" + "1" * 32, "+84905123456")
        for headers in ({}, {"X-Twilio-Signature": sign("wrong-token", stream)}):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(stream, headers=headers)
            assert refused.value.status == 403
        signed = {"X-Twilio-Signature": sign(HOTLINE_TOKEN, stream)}
        async with session.ws_connect(stream, headers=signed):
            pass
        with pytest.raises(aiohttp.WSServerHandshakeError) as replayed:  # a captured URL and signature, again
            await session.ws_connect(stream, headers=signed)
        assert replayed.value.status == 403
    async with Caller(stack.gateway, HOTLINE_TOKEN, playback=FAST) as call:  # and the line still works
        assert len(await call.listen()) > PHONE_RATE


def test_the_voice_benchmark_runs(stack):
    """bench/voice.py against this stack (3 calls instead of 20); its figures go into the test report, not into
    an assertion: these machines are too noisy for timing checks."""
    env = {**stack.env, "PYTHONPATH": str(ROOT)}
    bench = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "bench/voice.py", "--calls", "3",
                            "--gateway", stack.gateway], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=600)
    assert bench.returncode == 0, bench.stderr[-4000:]
    table = [line for line in bench.stdout.splitlines() if line.startswith("|")]
    REPORTS.append("bench/voice.py (3 hotline calls):\n" + "\n".join(table))
    assert any(line.startswith("| hotline") for line in table)
    bench = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "bench/voice.py", "--concurrent", "2",
                            "--rounds", "1", "--playback", str(FAST), "--gateway", stack.gateway], cwd=ROOT,
                           env=env, capture_output=True, text=True, timeout=600)
    assert bench.returncode == 0, bench.stderr[-4000:]
    table = [line for line in bench.stdout.splitlines() if line.startswith("|")]
    REPORTS.append("bench/voice.py --concurrent 2:\n" + "\n".join(table))
    served = [line.split("|") for line in table if line.startswith("|       2 |")]
    assert len(served) == 2 and all(cells[3].strip() == "0" for cells in served)  # both callers were answered
