"""The hotline's end-of-utterance detection on 20 ms frames."""
from __future__ import annotations

import numpy as np

from voice.endpoint import Endpointer, level_dbfs

FRAME = 160


def frames(level: float, count: int) -> list[np.ndarray]:
    t = np.arange(FRAME) / 8000
    return [(np.sin(2 * np.pi * 300 * t) * 32767 * level).astype(np.int16) for _ in range(count)]


def run(endpointer: Endpointer, sequence: list[np.ndarray]) -> list[tuple[int, str]]:
    return [(i, state) for i, frame in enumerate(sequence) if (state := endpointer.feed(frame))]


def test_levels():
    assert level_dbfs(np.zeros(FRAME, dtype=np.int16)) < -90
    assert -4 < level_dbfs(frames(1.0, 1)[0]) < -2  # a full-scale sine is -3 dBFS


def test_speech_starts_after_a_few_loud_frames_and_ends_after_the_silence():
    endpointer = Endpointer(end_ms=600)
    events = run(endpointer, frames(0, 10) + frames(0.3, 50) + frames(0.001, 40))
    assert events == [(12, "start"), (89, "end")]  # 3 loud frames; then 30 quiet frames (600 ms)
    assert endpointer.trailing_ms == 600  # what the recogniser is told it need not decode again


def test_a_click_or_a_short_pause_does_not_cut_the_utterance():
    endpointer = Endpointer(end_ms=600)
    sequence = frames(0.3, 2) + frames(0, 10) + frames(0.3, 20) + frames(0, 20) + frames(0.3, 20) + frames(0, 30)
    assert [state for _, state in run(endpointer, sequence)] == ["start", "end"]


def test_the_start_of_speech_is_kept_and_long_speech_is_cut():
    endpointer = Endpointer(preroll_ms=100, max_ms=1000)
    events = run(endpointer, frames(0, 20) + frames(0.3, 100))
    assert events[:3] == [(22, "start"), (67, "end"), (70, "start")]  # 1 s including the 100 ms before
    assert endpointer.trailing_ms == 0  # cut while still talking: no silence to rely on
    endpointer = Endpointer(preroll_ms=100)
    run(endpointer, frames(0, 20) + frames(0.3, 3))
    assert len(endpointer.take_preroll()) == 5 and endpointer.take_preroll() == []
