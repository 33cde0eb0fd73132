"""Speech recognition: one interface over two offline engines.

- Vosk (https://alphacephei.com/vosk/), loaded from a model directory given by VOSK_MODEL_PATH, e.g.
  vosk-model-small-vn-0.4 from https://alphacephei.com/vosk/models. Gives per-word confidences.
- viet-asr, the default when no Vosk model is configured: PyPI `viet-asr` (import `vietasr`), project
  https://github.com/dangvansam/viet-asr, Apache-2.0 per its package metadata (the wheel has no LICENSE file).
  Verified in 0.1.0.dev11: the wheel's `libvietasr.so` (70 MB, next to its own onnxruntime) embeds the model;
  loading logs "embedded model, 69420285 bytes" and a 4972-token vocabulary and fetches nothing (its HTTP
  client is compiled out). Upstream's model notes call it a streaming Conformer with a CTC head, int8-quantised
  ONNX, 66.2 MB; the attention/CNN cache inputs named in the library agree. Not verifiable: its training data
  and its licence - upstream's LICENSE says bundled models have "separate licenses" and refers to
  models/MANIFEST.md, which names none for this model, and to a reference/ORIGIN.md we could not find.
  It gives no confidence, and its endpoint signal never fires (upstream's accept always returns 0), so
  _VietAsrStream finds the end of an utterance itself. Its whole-buffer `transcribe` keeps only the last 4
  segments of a long recording, so we never call it.

Every final transcript, from either engine, is repaired here before anything reads it (common.syllables): glued
syllables are split, tokens that are no syllable and cannot be split are dropped, and the confidence lowered.
When the caller knows the answers it expects (the buttons just offered), Vosk also returns its 3 best readings
(`alternatives`) for common.expected to weigh; viet-asr has no alternatives (its API gives one text only).

A recogniser and its model are shared and thread-safe; a Stream belongs to one caller and is fed from one
thread at a time, but close() may come from another thread (a caller hanging up mid-recognition): it waits
for the running call, since freeing viet-asr's session under it crashes the process.
Recognition is CPU-bound: async code runs it on the speech threads (voice.workers), `transcribe()` for a recording.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import vietasr
import vosk

from common.syllables import repair
from voice.settings import VoiceSettings
from voice.workers import BATCH, speech_workers

logger = logging.getLogger(__name__)

# transcribe() feeds a recording in pieces this long so both engines can find the pauses between utterances.
CHUNK_SECONDS = 0.2
# Vosk: how many readings of an utterance it gives when answers are expected.
VOSK_ALTERNATIVES = 3
# viet-asr: an utterance ends when its transcript has not changed for this much audio, the same 1 s of
# trailing silence its own (unreported) endpoint rule uses.
VIET_ASR_ENDPOINT_SECONDS = 1.0
# viet-asr decodes in chunks of 0.43 s of audio. Once this much silence ends what was fed, a chunk has been
# decoded past the last word, and its final pass (a padded chunk: about 0.1 s of CPU, at the moment the caller
# waits) would add nothing. Through the phone band, the transcript after 0.3 s of silence still missed the last
# word of a third of test sentences; after 0.6 s it was the final one every time (tests/voice/test_asr.py).
VIET_ASR_SETTLED_SECONDS = 0.5

Pcm = bytes | np.ndarray


@dataclass(frozen=True)
class Transcript:
    text: str
    confidence: float | None
    final: bool
    alternatives: tuple[str, ...] = ()  # the engine's next best readings, best first (Vosk, when asked)


def heard(transcript: Transcript) -> Transcript:
    """A final transcript as the assistant may read it: glued syllables split, broken tokens dropped
    (common.syllables). Confidence is lowered by the share of the text that was repaired; an engine that gives
    none (viet-asr) is taken as sure of what it said, so a repaired text gets a confidence below 1."""
    fixed = repair(transcript.text)
    if not fixed.changed:
        return transcript
    # Counts only: the words are the citizen's.
    logger.debug("recognised text repaired: %d of %d tokens split, %d dropped", fixed.split, fixed.tokens,
                 fixed.dropped)
    confidence = (1.0 if transcript.confidence is None else transcript.confidence) * fixed.trust()
    alternatives = tuple(repair(text).text for text in transcript.alternatives)
    return Transcript(fixed.text, confidence, transcript.final, alternatives)


class AsrModelError(RuntimeError):
    """The configured speech model cannot be loaded."""


def _pcm16(pcm: Pcm) -> np.ndarray:
    """Mono 16-bit PCM, from little-endian bytes or an int16 array."""
    if isinstance(pcm, (bytes, bytearray, memoryview)):
        return np.frombuffer(pcm, dtype="<i2")
    if pcm.dtype != np.int16:
        raise TypeError(f"PCM must be int16, not {pcm.dtype}")
    return pcm


def _join(finals: list[Transcript]) -> Transcript:
    """One transcript from several utterances; confidence weighted by their word counts."""
    said = [t for t in finals if t.text]
    scored = [(t.confidence, len(t.text.split())) for t in said if t.confidence is not None]
    words = sum(n for _, n in scored)
    confidence = sum(c * n for c, n in scored) / words if words else None
    # Alternatives only where there is a single utterance: they are readings of one utterance.
    alternatives = said[0].alternatives if len(said) == 1 else ()
    return Transcript(" ".join(t.text for t in said), confidence, True, alternatives)


class Stream(ABC):
    """Recognition of one audio stream, fed in chunks. accept() only returns utterances with words.
    Engines implement _accept and _finish; every final they give is repaired here (heard())."""

    def accept(self, pcm: Pcm) -> Transcript | None:
        """Feed audio; a final Transcript when an utterance has just ended, else None.

        finish() does not repeat the utterances returned here: a caller wanting all the text keeps them.
        """
        final = self._accept(pcm)
        return None if final is None else heard(final)

    def finish(self, trailing_silence: float = 0.0) -> Transcript:
        """The final result of the audio not yet returned by accept(); closes the stream. `trailing_silence`: the
        seconds at the end of what was fed known to be silence (the end of speech the caller's pause showed)."""
        return heard(self._finish(trailing_silence))

    @abstractmethod
    def _accept(self, pcm: Pcm) -> Transcript | None:
        """The engine's final transcript when an utterance has just ended, else None."""

    @abstractmethod
    def _finish(self, trailing_silence: float) -> Transcript:
        """The engine's final transcript of the rest; closes the stream."""

    @abstractmethod
    def partial(self) -> Transcript:
        """What the current utterance sounds like so far."""

    @abstractmethod
    def close(self) -> None:
        """Free the engine's resources; safe to call twice."""


class Recognizer(ABC):
    name: str

    @abstractmethod
    def stream(self, sample_rate: int, expected: tuple[str, ...] = ()) -> Stream:
        """A new stream of mono 16-bit PCM at this rate (8 kHz phone audio and 16 kHz both work). `expected`: the
        answers the caller expects (button titles), for engines that can give alternatives."""

    def transcribe(self, pcm: Pcm, sample_rate: int, expected: tuple[str, ...] = ()) -> Transcript:
        """A whole recording: every utterance in it, joined."""
        samples = _pcm16(pcm)
        step = int(sample_rate * CHUNK_SECONDS)
        stream = self.stream(sample_rate, expected)
        try:
            finals = [stream.accept(samples[i:i + step]) for i in range(0, len(samples), step)]
            return _join([t for t in finals if t] + [stream.finish()])
        finally:
            stream.close()


class _VoskStream(Stream):
    def __init__(self, model: vosk.Model, sample_rate: int, alternatives: int = 0) -> None:
        self._recognizer = vosk.KaldiRecognizer(model, sample_rate)
        self._recognizer.SetWords(True)
        if alternatives:
            self._recognizer.SetMaxAlternatives(alternatives)

    @staticmethod
    def _final(raw: str) -> Transcript:
        result = json.loads(raw)
        if "alternatives" in result:
            # Readings best first; their "confidence" is a lattice score, not a probability, and words carry none.
            texts = [a.get("text", "") for a in result["alternatives"]]
            best = texts[0] if texts else ""
            return Transcript(best, None, True, tuple(t for t in texts[1:] if t and t != best))
        confidences = [word["conf"] for word in result.get("result", [])]
        return Transcript(result.get("text", ""), sum(confidences) / len(confidences) if confidences else None, True)

    def _engine(self) -> vosk.KaldiRecognizer:
        if self._recognizer is None:
            raise RuntimeError("the recognition stream is closed")
        return self._recognizer

    def _accept(self, pcm: Pcm) -> Transcript | None:
        engine = self._engine()  # held to the end, even if close() drops it meanwhile
        if not engine.AcceptWaveform(_pcm16(pcm).tobytes()):
            return None
        transcript = self._final(engine.Result())
        return transcript if transcript.text else None

    def partial(self) -> Transcript:
        return Transcript(json.loads(self._engine().PartialResult()).get("partial", ""), None, False)

    def _finish(self, trailing_silence: float) -> Transcript:
        # Kaldi decodes as audio comes: its final result only closes the lattice, cheap with or without silence.
        transcript = self._final(self._engine().FinalResult())
        self.close()
        return transcript

    def close(self) -> None:
        # KaldiRecognizer frees itself when the last reference goes, so a running accept keeps it alive.
        self._recognizer = None


class VoskRecognizer(Recognizer):
    name = "vosk"

    def __init__(self, model_path: Path | str) -> None:
        path = Path(model_path)
        hint = (
            f"No usable Vosk model at {path}. Download vosk-model-small-vn-0.4 from "
            "https://alphacephei.com/vosk/models, unzip it and set VOSK_MODEL_PATH to its directory "
            "(or unset VOSK_MODEL_PATH to use viet-asr)."
        )
        if not path.is_dir():
            raise AsrModelError(hint)
        vosk.SetLogLevel(-1)
        try:
            # Always by path: Model(lang=...) and model_name= would try to download.
            self._model = vosk.Model(str(path))
        except Exception as error:  # vosk raises a bare Exception("Failed to create a model")
            raise AsrModelError(hint) from error

    def stream(self, sample_rate: int, expected: tuple[str, ...] = ()) -> Stream:
        return _VoskStream(self._model, sample_rate, VOSK_ALTERNATIVES if expected else 0)


class _VietAsrStream(Stream):
    def __init__(self, pipeline: vietasr.Pipeline, sample_rate: int) -> None:
        self._session = pipeline.stream(sample_rate)
        self._using = threading.Lock()  # held while the engine runs; close() takes it too
        self._closed = False
        self._endpoint_samples = int(sample_rate * VIET_ASR_ENDPOINT_SECONDS)
        self._text = ""
        self._unchanged = 0  # samples fed since the transcript last changed

    @staticmethod
    def _text_of(result: vietasr.Result) -> str:
        # The engine separates the segments it cuts itself with newlines.
        return " ".join(result.text.split())

    def _engine(self) -> vietasr.Session:
        if self._closed:
            raise RuntimeError("the recognition stream is closed")
        return self._session

    def _accept(self, pcm: Pcm) -> Transcript | None:
        samples = _pcm16(pcm)
        with self._using:
            self._engine().accept(samples)
            text = self._text_of(self._session.partial())
        if text != self._text:
            self._text, self._unchanged = text, 0
            return None
        self._unchanged += len(samples)
        if not text or self._unchanged < self._endpoint_samples:
            return None
        # Start the next utterance afresh: the engine would otherwise keep only its last 4 segments.
        with self._using:
            self._engine().reset()
        self._text, self._unchanged = "", 0
        return Transcript(text, None, True)

    def partial(self) -> Transcript:
        return Transcript(self._text, None, False)

    def _finish(self, trailing_silence: float) -> Transcript:
        with self._using:
            engine = self._engine()
            settled = trailing_silence >= VIET_ASR_SETTLED_SECONDS
            transcript = Transcript(self._text_of(engine.partial() if settled else engine.final()), None, True)
        self.close()
        return transcript

    def close(self) -> None:
        with self._using:
            if not self._closed:
                self._closed = True
                self._session.close()


class VietAsrRecognizer(Recognizer):
    name = "viet-asr"

    def __init__(self) -> None:
        self._pipeline = vietasr.Pipeline.preset("transcribe")

    def stream(self, sample_rate: int, expected: tuple[str, ...] = ()) -> Stream:
        return _VietAsrStream(self._pipeline, sample_rate)  # no alternatives to give


_recognizers: dict[Path | None, Recognizer] = {}
_loading = threading.Lock()


def load_recognizer(settings: VoiceSettings | None = None) -> Recognizer:
    """The recogniser the settings ask for: Vosk when VOSK_MODEL_PATH is set, else viet-asr. Loaded once."""
    path = (settings or VoiceSettings.from_env()).vosk_model_path
    key = path.resolve() if path else None
    # One lock for all: concurrent first calls must not load a model twice (each takes 0.2-0.6 GB).
    with _loading:
        if key not in _recognizers:
            started = time.perf_counter()
            _recognizers[key] = VoskRecognizer(key) if key else VietAsrRecognizer()
            logger.info("ASR backend %s loaded in %.1f s", _recognizers[key].name, time.perf_counter() - started)
        return _recognizers[key]


async def transcribe(pcm: Pcm, sample_rate: int, recognizer: Recognizer | None = None,
                     expected: tuple[str, ...] = ()) -> Transcript:
    """A whole recording, recognised on a speech thread (voice.workers) so the event loop keeps serving others."""
    def run() -> Transcript:
        return (recognizer or load_recognizer()).transcribe(pcm, sample_rate, expected)

    return await speech_workers().run(BATCH, run)
