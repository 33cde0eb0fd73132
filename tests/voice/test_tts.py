"""Speech out, for real: espeak-ng audio, and gTTS against local servers that stand in for a broken or working net."""
import asyncio
import base64
import logging
import os
import re
import ssl
import subprocess
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from common import clock
from tests.conftest import free_port
from voice import codecs
from voice.settings import VOICES, VoiceSettings
from voice.speakable import speakable
from voice.tts import Speaker, SpeechError, fixed_answers

ROOT = Path(__file__).resolve().parents[2]
SENTENCE = "Dạ, cháu chào bác ạ. Cháu là trợ lý của thành phố Huế."
OTHERS = ["Dạ, cháu chào bác. Chúc bác nhiều sức khỏe ạ!", "Dạ, không có chi ạ.", "Bác chờ giúp cháu nghe."]
PUBLIC = [SENTENCE, *OTHERS]  # fixed answers: Google may speak them
PERSONAL = "Dạ, cháu gửi phản ánh của bác Nguyễn Thị Lan, số điện thoại 0905 123 456, ở 12 kiệt 5 Chi Lăng nghe."


@pytest.fixture
def settings(tmp_path):
    return VoiceSettings(cache_dir=tmp_path / "tts-cache", gtts_enabled=False)


def pcm(speech):
    return codecs.decode(speech.audio, rate=16000)


def seconds(speech, fmt="mp3"):
    # mulaw is raw 8 kHz, one byte a sample: nothing to decode it from
    return len(speech.audio) / 8000 if fmt == "mulaw" else len(pcm(speech)) / 16000


def loudness(samples):
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def use_proxy(monkeypatch, port):
    """Send gTTS's HTTPS through 127.0.0.1:port, as a broken (or a test) network would carry it."""
    for name in ("https_proxy", "HTTPS_PROXY"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{port}")
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)


def tts_log(caplog):
    return [(r.levelname, r.getMessage().split(":")[0]) for r in caplog.records if r.name == "voice.tts"]


# -- espeak-ng


@pytest.mark.parametrize("voice", VOICES)
def test_espeak_speaks_vietnamese_in_each_voice(settings, voice):
    speech = Speaker(replace(settings, voice=voice)).speak(SENTENCE)
    assert (speech.engine, speech.content_type, speech.cached) == ("espeak", codecs.CONTENT_TYPES["mp3"], False)
    samples = pcm(speech)
    assert 2.5 < len(samples) / 16000 < 8
    assert loudness(samples) > 500


def test_slower_rate_gives_longer_speech(settings):
    slow = Speaker(replace(settings, rate_wpm=100)).speak(SENTENCE, "wav")
    fast = Speaker(replace(settings, rate_wpm=200)).speak(SENTENCE, "wav")
    assert seconds(slow) > 1.5 * seconds(fast)


@pytest.mark.parametrize("fmt", ["mp3", "ogg", "mulaw", "wav"])
def test_each_output_format(settings, fmt):
    speech = Speaker(settings).speak(SENTENCE, fmt)
    assert speech.content_type == codecs.CONTENT_TYPES[fmt]
    assert 2.5 < seconds(speech, fmt) < 8


def test_long_answers_are_spoken_whole(settings):
    # more than the minute codecs.decode allows a citizen's upload: answers may quote a long description
    speech = Speaker(settings).speak(" ".join([SENTENCE] * 15), "mulaw")
    assert seconds(speech, "mulaw") > 60


def test_nothing_to_say(settings):
    with pytest.raises(ValueError, match="nothing to say"):
        Speaker(settings).speak("👍 ...")


def test_missing_espeak_says_how_to_install_it(settings, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SpeechError, match="apt-get install espeak-ng"):
        Speaker(settings)


# -- cache


def test_repeated_text_is_served_from_disk(settings, tmp_path):
    speaker = Speaker(settings)
    first = speaker.speak(SENTENCE, "ogg")
    assert speaker.cache_path(speaker.espeak, "ogg", speakable(SENTENCE)).read_bytes() == first.audio
    speaker.espeak.binary = str(tmp_path / "no-espeak-here")  # any synthesis would fail from now on
    assert speaker.speak(SENTENCE, "ogg") == replace(first, cached=True)
    assert Speaker(settings).speak(SENTENCE, "ogg").cached  # and in the next process


def test_voice_rate_and_format_have_their_own_entries(settings):
    variants = [settings, replace(settings, rate_wpm=180), replace(settings, voice="vi-vn-x-south")]
    assert not any(Speaker(s).speak(SENTENCE, fmt).cached for s in variants for fmt in ("mp3", "mulaw"))
    assert all(Speaker(s).speak(SENTENCE, fmt).cached for s in variants for fmt in ("mp3", "mulaw"))
    files = [p for p in settings.cache_dir.rglob("*") if p.is_file()]
    assert len(files) == 6  # and no temporary files left behind


# -- gTTS and its breaker


@pytest.fixture
async def silent_proxy(monkeypatch):
    """Accepts connections and never answers: packets swallowed somewhere on the way to Google."""
    connections = []

    async def swallow(reader, writer):
        connections.append(writer)
        await reader.read()  # until gTTS gives up and hangs up

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    use_proxy(monkeypatch, server.sockets[0].getsockname()[1])
    yield connections
    for writer in connections:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_silent_network_falls_back_at_once_and_opens_the_breaker(settings, silent_proxy, caplog):
    settings = replace(settings, gtts_enabled=True)  # default timeout, 0.8 s
    now = [0.0]
    speaker = Speaker(settings, PUBLIC, clock=lambda: now[0])
    ticks = 0

    async def tick():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.02)
            ticks += 1

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    speech = await speaker.aspeak(SENTENCE)
    elapsed = time.monotonic() - started
    ticker.cancel()
    assert (speech.engine, speech.cached) == ("espeak", False)
    assert loudness(pcm(speech)) > 500
    assert len(silent_proxy) == 1
    # waited for Google as long as the timeout says, then gave up (the bound is generous for busy machines)
    assert settings.gtts_timeout <= elapsed < settings.gtts_timeout + 1.5
    assert ticks >= 10  # the event loop went on meanwhile
    assert speaker.breaker.is_open

    # open: Google is not even tried
    now[0] = settings.gtts_retry_after - 1
    assert (await speaker.aspeak(OTHERS[0])).engine == "espeak"
    assert len(silent_proxy) == 1

    # after retry_after, one trial; it fails and the breaker stays open
    now[0] = settings.gtts_retry_after
    started = time.monotonic()
    assert (await speaker.aspeak(OTHERS[1])).engine == "espeak"
    assert time.monotonic() - started < settings.gtts_timeout + 1.5
    assert len(silent_proxy) == 2
    assert (await speaker.aspeak(OTHERS[2])).engine == "espeak"
    assert len(silent_proxy) == 2
    assert tts_log(caplog) == [("WARNING", "gTTS failed (gTTS")]  # one line for the outage, not one per call


def test_refused_connection_fails_fast(settings, monkeypatch):
    use_proxy(monkeypatch, free_port())
    speaker = Speaker(replace(settings, gtts_enabled=True, gtts_timeout=5.0), PUBLIC)
    started = time.monotonic()
    assert speaker.speak(SENTENCE).engine == "espeak"
    assert time.monotonic() - started < 2.0  # nowhere near the 5 s timeout
    assert speaker.breaker.is_open


@pytest.fixture(scope="module")
def tls_context(tmp_path_factory):
    """A self-signed certificate is enough: gTTS does not verify Google's (verify=False)."""
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-subj", "/CN=translate.google.com", "-days", "2", "-keyout", folder / "key.pem",
                    "-out", folder / "cert.pem"], check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


@pytest.fixture
async def fake_google(tls_context):
    """A proxy that lets the CONNECT through to a Translate stand-in answering every request with one second of MP3."""
    tone = (8000 * np.sin(2 * np.pi * 440 * np.arange(24000) / 24000)).astype(np.int16)
    google = SimpleNamespace(mp3=codecs.encode(tone, 24000, "mp3"), connections=0)
    # the line gTTS looks for in Translate's batchexecute answer
    body = (")]}'\n\n[[\"wrb.fr\",\"jQ1olc\",\"[\\\"" + base64.b64encode(google.mp3).decode()
            + "\\\"]\",null,null,null,\"generic\"]]\n").encode()

    async def serve(reader, writer):
        google.connections += 1
        await reader.readuntil(b"\r\n\r\n")  # CONNECT translate.google.com:443
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await writer.start_tls(tls_context)
        head = await reader.readuntil(b"\r\n\r\n")
        await reader.readexactly(int(re.search(rb"content-length: *(\d+)", head, re.IGNORECASE).group(1)))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    google.port = server.sockets[0].getsockname()[1]
    yield google
    server.close()
    await server.wait_closed()


async def test_google_voice_when_google_answers(settings, fake_google, monkeypatch):
    use_proxy(monkeypatch, fake_google.port)
    speaker = Speaker(replace(settings, gtts_enabled=True), PUBLIC)
    mp3 = await speaker.aspeak(SENTENCE, "mp3")
    assert (mp3.engine, mp3.cached, mp3.audio) == ("gtts", False, fake_google.mp3)  # Google's MP3 as it came
    ogg = await speaker.aspeak(SENTENCE, "ogg")
    assert ogg.engine == "gtts" and abs(seconds(ogg, "ogg") - 1.0) < 0.1
    assert fake_google.connections == 2
    assert (await speaker.aspeak(SENTENCE, "ogg")) == replace(ogg, cached=True)
    assert fake_google.connections == 2


async def test_espeak_cached_during_an_outage_gives_way_to_google(settings, fake_google, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="voice.tts")
    settings = replace(settings, gtts_enabled=True)
    now = [0.0]
    speaker = Speaker(settings, PUBLIC, clock=lambda: now[0])
    use_proxy(monkeypatch, free_port())
    down = await speaker.aspeak(SENTENCE)
    assert (down.engine, down.cached) == ("espeak", False)
    assert (await speaker.aspeak(SENTENCE)) == replace(down, cached=True)  # still down: espeak, from disk

    use_proxy(monkeypatch, fake_google.port)
    now[0] = settings.gtts_retry_after
    up = await speaker.aspeak(SENTENCE)
    assert (up.engine, up.cached, up.audio) == ("gtts", False, fake_google.mp3)
    assert not speaker.breaker.is_open  # the successful trial closed it
    assert (await speaker.aspeak(SENTENCE)) == replace(up, cached=True)
    assert fake_google.connections == 1
    assert tts_log(caplog) == [("WARNING", "gTTS failed (gTTS"), ("INFO", "gTTS answers again")]


# -- privacy


async def test_a_citizens_data_never_reaches_google(settings, fake_google, monkeypatch):
    use_proxy(monkeypatch, fake_google.port)
    speaker = Speaker(replace(settings, gtts_enabled=True), PUBLIC)
    assert (await speaker.aspeak(SENTENCE)).engine == "gtts"
    assert fake_google.connections == 1
    for fmt in ("mp3", "ogg", "mulaw"):
        assert (await speaker.aspeak(PERSONAL, fmt)).engine == "espeak"
    assert fake_google.connections == 1  # nothing more went out


def test_personal_speech_is_deleted_after_its_time(settings, clock_at):
    speaker = Speaker(replace(settings, personal_cache_seconds=3600), PUBLIC)
    speaker.speak(SENTENCE, "ogg")
    made = speaker.speak(PERSONAL, "ogg")
    personal = speaker.cache_path(speaker.espeak, "ogg", speakable(PERSONAL))
    assert personal.parent == settings.cache_dir / "personal" and personal.exists()
    assert speaker.speak(PERSONAL, "ogg") == replace(made, cached=True)

    clock_at(clock.now() + timedelta(minutes=61))
    assert speaker.prune() == 1
    assert not personal.exists()  # gone from the disk
    assert speaker.speak(SENTENCE, "ogg").cached  # the fixed answers stay
    assert not speaker.speak(PERSONAL, "ogg").cached  # made anew when needed


# -- prebuild


def test_prebuild_fills_the_cache_from_the_domain(settings):
    env = {**os.environ, "TTS_CACHE_DIR": str(settings.cache_dir), "GTTS_ENABLED": "0",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "voice.prebuild", "--domain", str(ROOT / "domain.yml")]
    first = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    answers = int(re.match(r"(\d+) fixed answers", first).group(1))
    assert answers > 30 and "already cached" in first
    assert len([p for p in settings.cache_dir.iterdir() if p.is_file()]) == 3 * answers

    speaker = Speaker(settings, fixed_answers(ROOT / "domain.yml"))
    greet = "Dạ, cháu chào bác ạ. Cháu là trợ lý của thành phố Huế. Bác cần cháu giúp việc chi ạ?"
    assert all(speaker.speak(greet, fmt).cached for fmt in ("mp3", "ogg", "mulaw"))
    with_slot = "Dạ, phường {ward} chưa có trạm y tế nhận đặt lịch qua cháu ạ. Bác chọn nơi khác giúp cháu nghe."
    assert not speaker.cache_path(speaker.espeak, "mp3", speakable(with_slot)).exists()

    again = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert f"built none; {3 * answers} already cached" in again


async def _parts(speaker: Speaker, text: str, fmt: str = "mulaw") -> list:
    return [speech async for speech in speaker.aspeak_parts(text, fmt)]


async def test_a_personal_answer_is_spoken_sentence_by_sentence_and_a_ready_one_whole(settings):
    speaker = Speaker(settings, public=PUBLIC)
    answer = PERSONAL + " Bác xác nhận gửi không ạ? Bác bấm Đúng hoặc Sửa nghe."
    parts = await _parts(speaker, answer)
    assert len(parts) == 3 and all(not p.cached and p.engine == "espeak" for p in parts)
    # Each sentence is what speaking it alone gives: the first can be sent while the others are made.
    assert [p.audio for p in parts] == [speaker.speak(s, "mulaw").audio for s in
                                        (PERSONAL, "Bác xác nhận gửi không ạ?", "Bác bấm Đúng hoặc Sửa nghe.")]
    assert [p.audio for p in await _parts(speaker, SENTENCE)] == [speaker.speak(SENTENCE, "mulaw").audio]  # public
    speaker.speak(answer, "mulaw")
    assert len(await _parts(speaker, answer)) == 1  # already made whole: sent whole


async def test_a_listener_who_stops_early_leaves_no_speech_being_made(settings, monkeypatch):
    speaker, made = Speaker(settings), []
    real = speaker.speak
    monkeypatch.setattr(speaker, "speak", lambda text, fmt: made.append(text) or real(text, fmt))
    parts = speaker.aspeak_parts("Câu một ạ. Câu hai ạ. Câu ba ạ. Câu bốn ạ.", "mulaw")
    assert (await anext(parts)).audio
    await parts.aclose()  # the caller talked over the answer
    await asyncio.sleep(0.3)
    assert made[0] == "Câu một ạ." and "Câu ba ạ." not in made and "Câu bốn ạ." not in made
