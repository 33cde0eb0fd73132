"""Speak the assistant's answers: Google's voice (gTTS) when it answers, espeak-ng otherwise, cached on disk.

gTTS sounds natural but needs the internet; espeak-ng is robotic but local and fast. A circuit breaker keeps a dead
network from adding a timeout to every answer: after one failure gTTS rests for `gtts_retry_after` seconds, then one
trial call decides. Speech is cached per (engine, voice, rate, format, prepared text), so fixed answers cost
nothing after `python -m voice.prebuild`.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from gtts import gTTS
from ruamel.yaml import YAML

from common.clock import now
from voice import codecs
from voice.settings import VoiceSettings
from voice.speakable import speakable

log = logging.getLogger(__name__)

# Engine output is decoded at gTTS's own rate, which is also codecs' MP3 rate: the web format needs no resampling.
PCM_RATE = 24000
PRUNE_EVERY = 600  # seconds between deletions of expired personal speech
_PLACEHOLDER = re.compile(r"\{\w+\}")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


class SpeechError(RuntimeError):
    """An engine could not speak."""


@dataclass(frozen=True)
class Speech:
    audio: bytes
    engine: str  # "gtts" or "espeak": espeak means the robotic fallback spoke
    content_type: str
    cached: bool


class Gtts:
    """Google Translate's Vietnamese voice; MP3.

    gTTS offers only normal or slow speed; slow is Translate's drawn-out reading for language learners, which sounds
    unnatural for whole answers. So normal speed: the pauses elders need come from short sentences and from the
    commas speakable() puts between the digit groups of codes and phone numbers.
    """

    name, voice, rate, format = "gtts", "vi", "normal", "mp3"

    def __init__(self, timeout: float):
        self.timeout = timeout

    def synthesize(self, text: str) -> bytes:
        """Give up when Google has not answered for `timeout` seconds.

        gTTS sends one request per 100 characters, so the wait is per request: a long answer from a working Google
        must not open the breaker. requests' own timeout does not cover DNS lookups, hence the thread: it ends
        on requests' timeout, or is abandoned (a daemon) if the resolver hangs.
        """
        parts: queue.SimpleQueue = queue.SimpleQueue()

        def fetch() -> None:
            try:
                for part in gTTS(text, lang="vi", slow=False, timeout=self.timeout).stream():
                    parts.put(part)
                parts.put(None)
            except Exception as error:  # handed to the caller's thread
                parts.put(error)

        threading.Thread(target=fetch, name="gtts", daemon=True).start()
        audio = bytearray()
        while True:
            try:
                part = parts.get(timeout=self.timeout)
            except queue.Empty:
                raise SpeechError(f"gTTS: no answer within {self.timeout} s") from None
            if part is None:
                return bytes(audio)
            if isinstance(part, Exception):
                raise SpeechError(f"gTTS: {part}") from part
            audio += part


class Espeak:
    """espeak-ng (the Debian package); WAV.

    `rate` is in words per minute: settings.rate_wpm, 140 by default, slower than espeak's 175 for elders.
    The WAV header espeak writes to a pipe has placeholder sizes, so its output is always re-encoded.
    """

    name, format = "espeak", "wav"

    def __init__(self, voice: str, rate: int):
        binary = shutil.which("espeak-ng")
        if binary is None:
            raise SpeechError("espeak-ng is not installed: apt-get install espeak-ng")
        self.binary, self.voice, self.rate = binary, voice, rate

    def synthesize(self, text: str) -> bytes:
        # Text on stdin, not argv: a text starting with "-" would be read as an option. -b 1: the input is UTF-8.
        command = [self.binary, "-v", self.voice, "-s", str(self.rate), "-b", "1", "--stdin", "--stdout"]
        done = subprocess.run(command, input=text.encode(), capture_output=True, timeout=30)
        if done.returncode != 0 or len(done.stdout) <= 44:
            error = (done.stderr or done.stdout).decode(errors="replace").strip()
            raise SpeechError(f"espeak-ng -v {self.voice} failed: {error or 'no audio'}")
        return done.stdout


class Breaker:
    """Closed: calls go through. Open after a failure: none for `retry_after` seconds, then one trial call."""

    def __init__(self, retry_after: float, clock: Callable[[], float] = time.monotonic):
        self.retry_after, self.clock = retry_after, clock
        self.opened_at: float | None = None
        self._trial = False
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None

    def allow(self) -> bool:
        with self._lock:
            if self.opened_at is None:
                return True
            if self._trial or self.clock() - self.opened_at < self.retry_after:
                return False
            self._trial = True
            return True

    def succeeded(self) -> None:
        with self._lock:
            if self.opened_at is not None:
                log.info("gTTS answers again: speaking with Google's voice")
            self.opened_at, self._trial = None, False

    def failed(self, error: Exception) -> None:
        with self._lock:
            if self.opened_at is None:
                log.warning("gTTS failed (%s): speaking with espeak-ng, next try in %.0f s", error, self.retry_after)
            self.opened_at, self._trial = self.clock(), False


class Speaker:
    """Speaks answers in "mp3" (web), "ogg" (Opus, chat apps), "mulaw" (8 kHz telephony) or "wav".

    One per process: it holds the gTTS breaker. No citizen's data leaves the machine: only the public texts (the
    assistant's fixed answers, the same for everyone, `public`) may go to Google; every other text (a summary with a
    name, phone and address, a status with officers' notes) is spoken by espeak-ng here. Public speech is cached for
    good; other speech is personal and is deleted `personal_cache_seconds` after it was made.

    The cache has one entry per engine actually used, so audio from espeak-ng (made while Google was down) is never
    served as Google's: it is served only while gTTS cannot be tried, and replaced by Google's voice the first time
    gTTS answers again.
    """

    def __init__(self, settings: VoiceSettings, public: Iterable[str] = (),
                 clock: Callable[[], float] = time.monotonic):
        self.cache_dir = Path(settings.cache_dir)
        self.personal_dir = self.cache_dir / "personal"
        self.personal_dir.mkdir(parents=True, exist_ok=True)
        self.personal_seconds = settings.personal_cache_seconds
        self.public: set[str] = set()
        self.add_public(public)
        self.espeak = Espeak(settings.voice, settings.rate_wpm)
        self.gtts = Gtts(settings.gtts_timeout) if settings.gtts_enabled else None
        self.breaker = Breaker(settings.gtts_retry_after, clock)
        self.clock = clock
        self._pruned_at: float | None = None
        self.prune()

    def add_public(self, texts: Iterable[str]) -> None:
        """Texts with nothing of a citizen in them, which Google may speak and the cache may keep."""
        self.public.update(speakable(text) for text in texts)

    def speak(self, text: str, fmt: str = "mp3") -> Speech:
        if fmt not in codecs.CONTENT_TYPES:
            raise ValueError(f"unknown audio format {fmt!r}")
        prepared = speakable(text)
        if not any(c.isalnum() for c in prepared):
            raise ValueError(f"nothing to say in {text!r}")  # and silence would count as a gTTS failure
        if self.gtts is not None and prepared in self.public:
            speech = self._cached(self.gtts, fmt, prepared)
            if speech is not None:
                return speech
            if self.breaker.allow():
                try:
                    speech = self._synthesize(self.gtts, fmt, prepared)
                except Exception as error:  # any failure, bad audio included: espeak-ng speaks instead
                    self.breaker.failed(error)
                else:
                    self.breaker.succeeded()
                    return speech
        return self._cached(self.espeak, fmt, prepared) or self._synthesize(self.espeak, fmt, prepared)

    async def aspeak(self, text: str, fmt: str = "mp3") -> Speech:
        """speak() in a worker thread: synthesis and a gTTS timeout never block the event loop."""
        return await asyncio.to_thread(self.speak, text, fmt)

    async def aspeak_parts(self, text: str, fmt: str) -> AsyncIterator[Speech]:
        """The speech of `text` as it becomes ready, for a listener who should hear the start at once: sentence by
        sentence, each made while the one before is sent. Whole when it is ready made (cached) or public (Google
        speaks whole answers better, and the public ones are built in advance)."""
        prepared = speakable(text)
        whole = prepared in self.public or self._cached(self.espeak, fmt, prepared) is not None
        parts = [] if whole else [part for part in _SENTENCE_END.split(text) if any(c.isalnum() for c in part)]
        parts = parts or [text]
        pending = asyncio.ensure_future(self.aspeak(parts[0], fmt))
        try:
            for following in [*parts[1:], None]:
                speech = await pending
                if following is not None:
                    pending = asyncio.ensure_future(self.aspeak(following, fmt))
                yield speech
        finally:
            pending.cancel()

    def cache_path(self, engine: Gtts | Espeak, fmt: str, prepared: str) -> Path:
        key = json.dumps([engine.name, engine.voice, engine.rate, fmt, prepared], ensure_ascii=False)
        folder = self.cache_dir if prepared in self.public else self.personal_dir
        return folder / f"{hashlib.sha256(key.encode()).hexdigest()}.{fmt}"

    def prune(self) -> int:
        """Delete personal speech older than its lifetime; how many files went."""
        self._pruned_at = self.clock()
        deleted = 0
        for path in self.personal_dir.iterdir():
            try:
                if self._expired(path):
                    path.unlink()
                    deleted += 1
            except FileNotFoundError:
                pass  # another process pruned it first
        return deleted

    def is_public(self, text: str) -> bool:
        return speakable(text) in self.public

    def _expired(self, path: Path) -> bool:
        return path.stat().st_mtime < now().timestamp() - self.personal_seconds

    def _cached(self, engine: Gtts | Espeak, fmt: str, prepared: str) -> Speech | None:
        path = self.cache_path(engine, fmt, prepared)
        try:
            if path.parent == self.personal_dir and self._expired(path):
                return None  # made again; the next pruning deletes the old file
            audio = path.read_bytes()
        except FileNotFoundError:
            return None
        return Speech(audio, engine.name, codecs.CONTENT_TYPES[fmt], cached=True)

    def _synthesize(self, engine: Gtts | Espeak, fmt: str, prepared: str) -> Speech:
        audio = engine.synthesize(prepared)
        # Only gTTS's MP3 goes out as made; espeak's WAV is re-encoded too, for its header (see Espeak).
        if (fmt, engine.format) != ("mp3", "mp3"):
            # The limits guard against citizens' uploads; a long answer (a summary quoting a long description)
            # can be minutes of speech.
            pcm = codecs.decode(audio, rate=PCM_RATE, max_seconds=math.inf, max_bytes=math.inf)
            audio = codecs.encode(pcm, PCM_RATE, fmt)
        path = self.cache_path(engine, fmt, prepared)
        self._store(path, audio)
        if path.parent == self.personal_dir and self.clock() - self._pruned_at > PRUNE_EVERY:
            self.prune()
        return Speech(audio, engine.name, codecs.CONTENT_TYPES[fmt], cached=False)

    def _store(self, path: Path, audio: bytes) -> None:
        """Write to a temporary file and rename: a reader never sees half a file. A full disk only costs the cache.
        Its time is the project clock's, against which personal speech expires."""
        try:
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".part-")
            try:
                with os.fdopen(fd, "wb") as file:
                    file.write(audio)
                made = now().timestamp()
                os.utime(temporary, (made, made))
                os.replace(temporary, path)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError as error:
            log.warning("TTS cache not written: %s", error)


def fixed_answers(domain: Path) -> list[str]:
    """The answers the domain writes out whole, without {placeholders}: the same for every citizen."""
    responses = YAML(typ="safe", pure=True).load(domain.read_text(encoding="utf-8")).get("responses") or {}
    texts = [variant["text"] for variants in responses.values() for variant in variants if variant.get("text")]
    return [text for text in dict.fromkeys(texts) if not _PLACEHOLDER.search(text)]
