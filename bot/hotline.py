"""The phone line: a Twilio Media Streams WebSocket at /hotline, one Rasa conversation per call.

The provider streams the caller's audio as base64 μ-law 8 kHz frames; we find where each utterance
ends (silence), recognise it, ask Rasa, and stream the spoken answer back, followed by a mark so we
know when it finished playing. If the caller talks over the answer we send `clear` (barge-in).
Keypad digits pick the spoken choices ("bấm phím 1…").
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import re
import time
from dataclasses import dataclass
from html import escape
from urllib.parse import parse_qsl

import numpy as np
from aiohttp import WSMsgType, web
from prometheus_client import Counter, Gauge, Histogram

from common import clock
from common.text import mask_sensitive
from voice.asr import Transcript
from voice.codecs import PHONE_RATE, mulaw_decode
from voice.endpoint import Endpointer
from voice.speakable import groups_spoken
from voice.tts import SpeechError
from voice.workers import STREAMING, URGENT, speech_workers

from .bus import call_topic
from .channel import Incoming, receive
from .context import BUS, BUSY, MEMORY, RECOGNIZER, SETTINGS, SPEAKER, UNHEARD, raw_body
from .rasa import RasaUnavailable
from .replies import LastReplies

log = logging.getLogger(__name__)

FRAME_BYTES = 160  # 20 ms of μ-law at 8 kHz, the frame size providers send and expect
OFFICER, REPEAT = "0", "*"
KEYS = "123456789"
STILL_THERE = "Dạ, bác còn nghe máy không ạ? Bác cần cháu giúp chi thì cứ nói, hoặc bấm phím 0 để gặp cán bộ ạ."
GOODBYE = "Dạ, cháu chưa nghe bác nói chi nên cháu xin phép gác máy. Bác gọi lại lúc nào cũng được ạ. Cháu chào bác."
REPROMPTS = 2  # unanswered "còn nghe máy không" before the assistant says goodbye and hangs up
STREAM_SECONDS = 60  # the provider opens a call's stream within this many seconds of the webhook's answer
MAX_WEBHOOK_BODY = 16 * 1024
MAX_STREAM_MESSAGE = 64 * 1024  # a provider's media message is about 400 bytes
OPENED = web.AppKey("opened_streams", dict)  # call sid -> expiry of its stream URL: each opens once
CALLS = web.AppKey("calls", set)  # the calls this gateway is answering
IN_PROGRESS = Gauge("hotline_calls", "Calls this gateway is answering")
TURNED_AWAY = Counter("hotline_calls_turned_away_total", "Callers told the lines are busy (HOTLINE_MAX_CALLS)")
# From the moment the caller's silence says they have finished: recognised, answered by Rasa, first sentence
# spoken, first frame sent. bench/voice.py reads them to say where simultaneous calls wait.
STAGES = Histogram("hotline_answer_seconds", "From the end of a caller's utterance to each stage of the answer",
                   ["stage"], buckets=(0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.0, 5.0))


def signature_ok(token: str, url: str, signature: str, params: dict[str, str] | None = None) -> bool:
    """Twilio's request signature: base64(HMAC-SHA1(auth token, URL + each POST field's name and value, sorted)).
    The WebSocket it opens is signed the same way, with no fields."""
    signed = url + "".join(name + value for name, value in sorted((params or {}).items()))
    expected = base64.b64encode(hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()).decode()
    return hmac.compare_digest(expected, signature)


def spoken(messages: list[dict]) -> list[str]:
    """The replies as said on the phone: the choices of the last one read out with their keys."""
    texts = [m["text"] for m in messages if m.get("text")]
    buttons = next((m["buttons"] for m in reversed(messages) if m.get("buttons")), [])[:len(KEYS)]
    if buttons:
        keys = "; ".join(f"phím {KEYS[i]}: {b['title']}" for i, b in enumerate(buttons))
        texts.append(f"Bác nói, hoặc bấm {keys}. Phím 0 để gặp cán bộ ạ.")
    return texts


class Utterance:
    """One utterance's recognition, fed as the caller speaks on the speech threads (voice.workers), off the event
    loop; once the caller has stopped, what is left of it goes before the audio of callers still speaking."""

    def __init__(self, recognizer, frames: list[np.ndarray], expected: tuple[str, ...] = ()):
        """`expected`: the answers offered just before (button titles)."""
        self.stream = recognizer.stream(PHONE_RATE, expected)
        self.queue: asyncio.Queue[np.ndarray | None] = asyncio.Queue()
        self.heard: list[Transcript] = []  # utterances the engine already closed on a pause of its own
        self.ended = 0.0  # when the caller's silence said they had finished (perf_counter)
        self.trailing_silence = 0.0  # seconds of that silence, fed last
        for frame in frames:
            self.queue.put_nowait(frame)
        self.worker = asyncio.create_task(self._accept())

    def _priority(self) -> int:
        return URGENT if self.ended else STREAMING

    async def _accept(self) -> None:
        while True:
            frames = [await self.queue.get()]
            while not self.queue.empty():
                frames.append(self.queue.get_nowait())
            chunk = [f for f in frames if f is not None]
            if chunk:
                final = await speech_workers().run(self._priority(), self.stream.accept, np.concatenate(chunk))
                if final is not None:
                    self.heard.append(final)
            if frames[-1] is None:
                return

    def feed(self, frame: np.ndarray) -> None:
        self.queue.put_nowait(frame)

    def end(self, trailing_silence: float) -> None:
        """The caller has stopped; the last `trailing_silence` seconds fed were their pause."""
        self.ended, self.trailing_silence = time.perf_counter(), trailing_silence

    async def finish(self) -> Transcript:
        """All that was said, as recognised; with the engine's alternatives when it was one utterance."""
        self.queue.put_nowait(None)
        try:
            await self.worker
            self.heard.append(await speech_workers().run(URGENT, self.stream.finish, self.trailing_silence))
        finally:
            await self.close()  # also when the caller hangs up meanwhile
        said = [t for t in self.heard if t.text.strip()]
        alternatives = said[0].alternatives if len(said) == 1 else ()
        return Transcript(" ".join(t.text.strip() for t in said), None, True, alternatives)

    async def abandon(self) -> None:
        self.worker.cancel()
        await asyncio.gather(self.worker, return_exceptions=True)
        await self.close()

    async def close(self) -> None:
        # Not on a speech thread: close() waits for the engine if a cancelled accept is still running there.
        await asyncio.to_thread(self.stream.close)


def lines_busy(settings) -> str:
    """What a caller hears when the gateway already answers all the calls it can: the number read in groups."""
    number = groups_spoken(*re.findall(r"\d+", settings.hotline_callback_number))
    return ("Dạ, các đường dây của Trợ lý Huế đang bận hết ạ. Bác vui lòng gọi lại sau ít phút, "
            f"hoặc gọi tổng đài {number} ạ. Cháu xin lỗi bác.")


class Call:
    def __init__(self, app: web.Application, ws: web.WebSocketResponse, stream: StreamGrant, admitted: bool = True):
        """`stream`: what the signed stream URL vouches for; the provider's `start` message only confirms it.
        A call not `admitted` hears that the lines are busy, and is hung up."""
        self.app, self.ws, self.grant, self.admitted = app, ws, stream, admitted
        self.sid = self.sender = ""
        self.endpointer = Endpointer(end_ms=app[SETTINGS].hotline_end_silence_ms)
        self.utterance: Utterance | None = None
        self.playing: set[str] = set()  # marks sent whose audio hasn't finished playing
        self.marks = 0
        self.turn = asyncio.Lock()  # one exchange with Rasa at a time, in order
        self.tasks: set[asyncio.Task] = set()
        self.started = self.quiet_since = time.monotonic()
        self.reprompts = 0
        self.last = LastReplies([])  # what the caller was last told, read again whenever something is said

    def spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def run(self) -> None:
        try:
            async for message in self.ws:
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    if await self.on(json.loads(message.data)) == "stop":
                        break
                except (AttributeError, KeyError, TypeError, ValueError):
                    # Not the provider's protocol (a list, a field of the wrong type, bad base64): ignored.
                    log.warning("call %s: a malformed stream message was ignored", self.sender or "(not started)")
        finally:
            await self.hang_up()

    async def on(self, event: dict) -> str | None:
        kind = event.get("event")
        if kind == "start" and not self.sid:
            start = event.get("start") or {}
            if start.get("callSid") != self.grant.call_sid:
                log.warning("hotline stream refused: its start names another call")
                return "stop"
            self.sid = str(event.get("streamSid") or start.get("streamSid") or self.grant.call_sid)
            self.sender = f"call-{self.grant.call_sid}"
            caller = self.grant.caller
            if not self.admitted:
                log.warning("call %s turned away: %d calls in progress", self.sender, len(self.app[CALLS]))
                self.spawn(self.turn_away())
                return None
            log.info("call %s started (caller %s)", self.sender, mask_sensitive(caller) or "unknown")
            self.spawn(self.exchange(Incoming(self.sender, payload="/greet", vouched_phone=caller or None,
                                              metadata={"caller": caller} if caller else None)))
            self.spawn(self.watch_silence())
            self.spawn(self.officer_speaks())
        elif kind == "media" and self.sid and self.admitted:
            self.hear(mulaw_decode(base64.b64decode(event["media"]["payload"])))
        elif kind == "dtmf" and self.sid and self.admitted:
            self.heard_from_caller()
            self.spawn(self.exchange(Incoming(self.sender, payload=self.keyed(str((event.get("dtmf") or {})
                                                                                   .get("digit", ""))))))
        elif kind == "mark":
            self.playing.discard((event.get("mark") or {}).get("name"))
            self.quiet_since = time.monotonic()
        elif kind == "stop":
            return "stop"
        return None

    def hear(self, frame: np.ndarray) -> None:
        state = self.endpointer.feed(frame)
        if state == "start":
            self.heard_from_caller()
            if self.playing:
                self.barge_in()
            self.utterance = Utterance(self.app[RECOGNIZER], self.endpointer.take_preroll(),
                                       tuple(self.last.titles()))
        elif self.utterance is not None:
            self.utterance.feed(frame)
            if state == "end":
                utterance, self.utterance = self.utterance, None
                utterance.end(self.endpointer.trailing_ms / 1000)
                self.spawn(self.understand(utterance))

    async def turn_away(self) -> None:
        TURNED_AWAY.inc()
        speech = await self.app[SPEAKER].aspeak(lines_busy(self.app[SETTINGS]), "mulaw")
        await self.play(speech.audio)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(len(speech.audio) / PHONE_RATE + 5):  # played, as its mark's echo says
                while self.playing:
                    await asyncio.sleep(0.1)
        await self.ws.close()

    def heard_from_caller(self) -> None:
        self.quiet_since, self.reprompts = time.monotonic(), 0

    async def watch_silence(self) -> None:
        """A caller silent for a while is asked whether they are still there; after a few times, goodbye."""
        wait = self.app[SETTINGS].hotline_reprompt_seconds
        while not self.ws.closed:
            await asyncio.sleep(min(0.5, wait / 4))
            busy = self.playing or self.endpointer.speaking or self.utterance or self.turn.locked()
            if busy or time.monotonic() - self.quiet_since < wait:
                continue
            if self.reprompts >= REPROMPTS:
                await self.say([GOODBYE])
                while self.playing and not self.ws.closed:
                    await asyncio.sleep(0.1)
                log.info("call %s: no answer, hanging up", self.sender)
                await self.ws.close()
                return
            self.reprompts += 1
            self.quiet_since = time.monotonic()
            await self.say([STILL_THERE])

    async def officer_speaks(self) -> None:
        """An officer who took the call speaks through it, from the console on any gateway."""
        async with self.app[BUS].listen(call_topic(self.sender)) as queue:
            while True:
                await self.say([(await queue.get())["say"]])

    def barge_in(self) -> None:
        """The caller talks over the answer: drop what the provider still has queued."""
        self.playing.clear()
        self.spawn(self.send({"event": "clear", "streamSid": self.sid}))

    def keyed(self, digit: str) -> str:
        if digit == OFFICER:
            return "gặp cán bộ"
        if digit == REPEAT:
            return "nói lại"
        buttons = self.last.buttons()
        index = KEYS.find(digit) if digit else -1
        return buttons[index]["payload"] if 0 <= index < len(buttons) else "/help"

    async def understand(self, utterance: Utterance) -> None:
        heard = await utterance.finish()
        STAGES.labels("recognised").observe(time.perf_counter() - utterance.ended)
        if not heard.text:
            await self.say([UNHEARD])
            return
        log.debug("call %s heard: %s", self.sender, mask_sensitive(heard.text))  # a citizen's words: DEBUG only
        # The buttons as they are now: the caller may have answered a question asked while they spoke.
        said = (await self.app[MEMORY].last(self.sender)).understood(heard.text, heard.alternatives)
        await self.exchange(Incoming(self.sender, text=said), utterance.ended)

    async def exchange(self, incoming: Incoming, ended: float | None = None) -> None:
        """`ended`: when the utterance this answers ended, to time the answer's stages."""
        async with self.turn:
            try:
                answer = await receive(self.app, incoming)
            except RasaUnavailable as failure:
                log.warning("rasa unavailable during call %s: %s", self.sender, failure)
                await self.say([BUSY])
                return
            if ended is not None:
                STAGES.labels("answered").observe(time.perf_counter() - ended)
            await self.say(spoken(answer.messages), ended)

    async def say(self, texts: list[str], ended: float | None = None) -> None:
        """Speak `texts`, each sentence sent as soon as it is made. `ended`: when the utterance this answers ended."""
        self.last = await self.app[MEMORY].last(self.sender)
        for text in texts:
            async with contextlib.aclosing(self.app[SPEAKER].aspeak_parts(text, "mulaw")) as parts:
                async for speech in parts:
                    if self.endpointer.speaking:
                        return  # the caller started talking meanwhile: don't talk over them
                    if ended is not None:
                        STAGES.labels("spoken").observe(time.perf_counter() - ended)
                    await self.play(speech.audio, ended)
                    ended = None

    async def play(self, audio: bytes, ended: float | None = None) -> None:
        """Send audio in the provider's frame size, then a mark: its echo says it has been played."""
        for offset in range(0, len(audio), FRAME_BYTES):
            await self.send({"event": "media", "streamSid": self.sid,
                             "media": {"payload": base64.b64encode(audio[offset:offset + FRAME_BYTES]).decode()}})
            if ended is not None:
                STAGES.labels("first_frame").observe(time.perf_counter() - ended)
                ended = None
        self.marks += 1
        name = f"reply-{self.marks}"
        self.playing.add(name)
        await self.send({"event": "mark", "streamSid": self.sid, "mark": {"name": name}})

    async def send(self, event: dict) -> None:
        if not self.ws.closed:
            await self.ws.send_json(event)

    async def hang_up(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.utterance is not None:
            await self.utterance.abandon()
        log.info("call %s ended after %.0f s", self.sender or "(not started)", time.monotonic() - self.started)


def _check_signature(request: web.Request, url: str, params: dict[str, str] | None = None) -> None:
    token = request.app[SETTINGS].hotline_token
    if not token or not signature_ok(token, url, request.headers.get("X-Twilio-Signature", ""), params):
        log.warning("hotline request refused: bad or missing signature")
        raise web.HTTPForbidden(text="invalid signature")


@dataclass(frozen=True)
class StreamGrant:
    """One call's right to open one audio stream, soon: what its signed stream URL carries."""

    call_sid: str
    caller: str
    expires: int  # Unix time

    def token(self, secret: str) -> str:
        payload = _b64(json.dumps([self.call_sid, self.caller, self.expires]).encode())
        return f"{payload}.{_b64(_stream_mac(secret, payload))}"

    @classmethod
    def read(cls, secret: str, token: str) -> StreamGrant | None:
        """The grant a token carries, if our own signature is on it and it has not expired."""
        payload, _, mac = token.partition(".")
        try:
            if not hmac.compare_digest(base64.urlsafe_b64decode(mac + "=" * (-len(mac) % 4)),
                                       _stream_mac(secret, payload)):
                return None
            call_sid, caller, expires = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (ValueError, TypeError):
            return None
        grant = cls(str(call_sid), str(caller), int(expires))
        return grant if clock.now().timestamp() < grant.expires else None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _stream_mac(secret: str, payload: str) -> bytes:
    # A key of its own, derived from the provider's token: a stream token is no provider signature.
    key = hmac.new(secret.encode(), b"trolyhue hotline stream", hashlib.sha256).digest()
    return hmac.new(key, payload.encode(), hashlib.sha256).digest()


async def answer_call(request: web.Request) -> web.Response:
    """The provider's voice webhook: checks the signature, then connects the call's audio to a stream URL of its
    own, signed, short-lived and usable once, bound to the call's CallSid and caller number."""
    settings = request.app[SETTINGS]
    if request.content_type != "application/x-www-form-urlencoded":
        raise web.HTTPForbidden(text="not a voice webhook")
    # The raw form, bounded, is all the signature needs: nothing is parsed into files or fields before it is checked.
    raw = await raw_body(request, MAX_WEBHOOK_BODY)
    form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    _check_signature(request, settings.public_url + request.path_qs, form)
    grant = StreamGrant(form.get("CallSid", ""), form.get("From", ""),
                        int(clock.now().timestamp()) + STREAM_SECONDS)
    if not grant.call_sid:
        raise web.HTTPBadRequest(text="no CallSid")
    stream = escape(f"{settings.public_url.replace('http', 'ws', 1)}/hotline/{grant.token(settings.hotline_token)}",
                    quote=True)
    twiml = ('<?xml version="1.0" encoding="UTF-8"?><Response><Connect>'
             f'<Stream url="{stream}"/></Connect></Response>')
    return web.Response(text=twiml, content_type="text/xml")


async def hotline(request: web.Request) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    _check_signature(request, settings.public_url.replace("http", "ws", 1) + request.path_qs)
    grant = StreamGrant.read(settings.hotline_token, request.match_info["token"])
    opened = request.app[OPENED]
    if grant is None or grant.call_sid in opened:
        log.warning("hotline stream refused: its URL is expired, already used or not ours")
        raise web.HTTPForbidden(text="invalid stream")
    now = clock.now().timestamp()
    for call_sid in [c for c, expires in opened.items() if expires <= now]:
        del opened[call_sid]
    opened[grant.call_sid] = grant.expires
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_STREAM_MESSAGE)
    await ws.prepare(request)
    calls = request.app[CALLS]
    call = Call(request.app, ws, grant, admitted=len(calls) < settings.hotline_max_calls)
    if call.admitted:
        calls.add(call)
        IN_PROGRESS.set(len(calls))
    try:
        await call.run()
    finally:
        calls.discard(call)
        IN_PROGRESS.set(len(calls))
    return ws


def setup(app: web.Application) -> None:
    app[OPENED], app[CALLS] = {}, set()
    busy = lines_busy(app[SETTINGS])
    app[SPEAKER].add_public([STILL_THERE, GOODBYE, busy])

    async def busy_ready(app: web.Application) -> None:
        # Made before it is needed: when it is, the machine has no time to spare.
        try:
            await app[SPEAKER].aspeak(busy, "mulaw")
        except SpeechError as error:
            log.warning("the busy-lines message is not ready (%s): it is made when first needed", error)

    app.on_startup.append(busy_ready)
    app.router.add_post("/hotline/voice", answer_call)
    app.router.add_get("/hotline/{token}", hotline)
