"""A caller on a Twilio-like provider, for tests and the benchmark: it speaks the Media Streams protocol.

Audio goes out in 20 ms μ-law frames in real time, silence between utterances, as a phone line does.
Audio coming back is "played" in real time too: marks are echoed when playback reaches them, and
`clear` drops what is still queued, as the provider does.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
import uuid
import xml.etree.ElementTree as ET

import aiohttp
import numpy as np

from voice.codecs import PHONE_RATE, mulaw_decode, mulaw_encode, resample

FRAME = 160  # bytes of μ-law in 20 ms
FRAME_SECONDS = 0.02
SILENCE = mulaw_encode(np.zeros(FRAME, dtype=np.int16))
VOICE_LEVEL = 32768 * 10 ** (-50 / 20)  # samples below -50 dBFS are not voice
FAST = 5.0  # a playback speed for tests that check what the assistant says, not when


def sign(token: str, url: str, params: dict[str, str] | None = None) -> str:
    """What the provider puts in X-Twilio-Signature: the URL and, for a webhook, its form fields."""
    signed = url + "".join(name + value for name, value in sorted((params or {}).items()))
    return base64.b64encode(hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()).decode()


async def ring(session: aiohttp.ClientSession, gateway: str, token: str, call_sid: str, caller: str) -> str:
    """The provider's voice webhook for a new call; returns the stream URL of the TwiML answer."""
    form = {"CallSid": call_sid, "From": caller, "To": "+842343822222", "CallStatus": "ringing"}
    url = f"{gateway}/hotline/voice"
    async with session.post(url, data=form, headers={"X-Twilio-Signature": sign(token, url, form)}) as response:
        assert response.status == 200, await response.text()
        return ET.fromstring(await response.text()).find("Connect/Stream").get("url")


class Caller:
    def __init__(self, gateway: str, token: str, caller: str = "+84905123456", playback: float = 1.0):
        """`gateway`: its public address (GATEWAY_PUBLIC_URL), which the provider's signatures cover. `playback`:
        how many times faster than real time the provider plays what it is sent (marks echo sooner); for checks
        of what is said rather than when, so a long greeting does not hold a test for its whole length."""
        self.gateway, self.token, self.caller, self.playback = gateway, token, caller, playback
        self.stream_sid = "MZ" + uuid.uuid4().hex
        self.call_sid = "CA" + uuid.uuid4().hex
        self.played: list[bytes] = []        # audio frames played to the caller, in order
        self.media_times: list[float] = []   # when each frame from the assistant arrived
        self.events: list[dict] = []         # every other event from the assistant
        self.played_marks: list[str] = []
        self._queue: list[tuple[str, object]] = []  # ("media", bytes) / ("mark", name), not yet played
        self._outgoing: list[bytes] = []
        self._last_activity = time.monotonic()

    async def __aenter__(self) -> "Caller":
        self.session = aiohttp.ClientSession()
        self.url = await ring(self.session, self.gateway, self.token, self.call_sid, self.caller)
        self.ws = await self.session.ws_connect(self.url, headers={"X-Twilio-Signature": sign(self.token, self.url)})
        await self.ws.send_json({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        await self.ws.send_json({"event": "start", "sequenceNumber": "1", "streamSid": self.stream_sid,
                                 "start": {"streamSid": self.stream_sid, "callSid": self.call_sid,
                                           "accountSid": "AC" + "0" * 32, "tracks": ["inbound"],
                                           "customParameters": {},
                                           "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000,
                                                           "channels": 1}}})
        self.tasks = [asyncio.create_task(self._receive()), asyncio.create_task(self._play()),
                      asyncio.create_task(self._talk())]
        return self

    async def __aexit__(self, *exc) -> None:
        await self.hang_up()

    async def hang_up(self) -> None:
        if not self.ws.closed:
            await self.ws.send_json({"event": "stop", "streamSid": self.stream_sid,
                                     "stop": {"callSid": self.call_sid, "accountSid": "AC" + "0" * 32}})
            await self.ws.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.session.close()

    async def _receive(self) -> None:
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            event = message.json()
            self._last_activity = time.monotonic()
            if event["event"] == "media":
                self.media_times.append(time.monotonic())
                self._queue.append(("media", base64.b64decode(event["media"]["payload"])))
                continue
            self.events.append(event)
            if event["event"] == "mark":
                self._queue.append(("mark", event["mark"]["name"]))
            elif event["event"] == "clear":
                marks = [name for kind, name in self._queue if kind == "mark"]
                self._queue.clear()
                for name in marks:
                    await self._echo(name)

    async def _echo(self, name: str) -> None:
        self.played_marks.append(name)
        await self.ws.send_json({"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}})

    async def _play(self) -> None:
        while True:
            if self._queue:
                kind, item = self._queue.pop(0)
                self._last_activity = time.monotonic()
                if kind == "mark":
                    await self._echo(item)
                    continue
                self.played.append(item)
            await asyncio.sleep(FRAME_SECONDS / self.playback)

    async def _talk(self) -> None:
        """The caller's microphone: a frame every 20 ms, silence unless saying something."""
        started, sent = time.monotonic(), 0
        while True:
            frame = self._outgoing.pop(0) if self._outgoing else SILENCE
            await self.ws.send_json({"event": "media", "streamSid": self.stream_sid,
                                     "media": {"track": "inbound", "chunk": str(sent + 1),
                                               "timestamp": str(sent * 20),
                                               "payload": base64.b64encode(frame).decode()}})
            sent += 1
            await asyncio.sleep(max(0.0, started + sent * FRAME_SECONDS - time.monotonic()))

    async def say(self, pcm: np.ndarray, rate: int) -> float:
        """Speak in real time; returns the moment the last frame of voice went out (trailing quiet is cut, so
        that moment is when the caller stopped talking)."""
        pcm = resample(pcm, rate, PHONE_RATE)
        loud = np.flatnonzero(np.abs(pcm) > VOICE_LEVEL)
        audio = mulaw_encode(pcm[: loud[-1] + 1] if loud.size else pcm)
        audio += SILENCE[: (-len(audio)) % FRAME]
        self._outgoing.extend(audio[i:i + FRAME] for i in range(0, len(audio), FRAME))
        while self._outgoing:
            await asyncio.sleep(FRAME_SECONDS / 2)
        return time.monotonic()

    async def press(self, digit: str) -> None:
        await self.ws.send_json({"event": "dtmf", "streamSid": self.stream_sid,
                                 "dtmf": {"track": "inbound_track", "digit": digit}})

    async def listen(self, settle: float = 1.5, timeout: float = 60) -> np.ndarray:
        """Everything played from now until a reply has finished (a mark echoed, then `settle` s of quiet)."""
        start, marks = len(self.played), len(self.played_marks)
        deadline = time.monotonic() + timeout
        while (len(self.played_marks) == marks or self._queue
               or time.monotonic() - self._last_activity < settle):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no reply finished playing within {timeout} s")
            await asyncio.sleep(0.05)
        return mulaw_decode(b"".join(self.played[start:]))

    def first_audio_after(self, moment: float) -> float | None:
        return next((t for t in self.media_times if t > moment), None)
