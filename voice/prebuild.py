"""Speak every fixed answer of the Rasa domain into the TTS cache, so those answers cost no synthesis at run time.

    python -m voice.prebuild [--domain domain.yml]

Settings come from the environment (TTS_CACHE_DIR, TTS_VOICE, TTS_RATE_WPM, GTTS_ENABLED, ...). Answers with {slot}
placeholders differ per conversation: they are cached when first spoken.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

from voice.settings import VoiceSettings
from voice.tts import Speaker, fixed_answers

FORMATS = ("mp3", "ogg", "mulaw")


def prebuild(speaker: Speaker, texts: list[str], formats: tuple[str, ...] = FORMATS) -> Counter:
    """Counts per outcome: 'cached', or the engine that spoke ('gtts', 'espeak')."""
    outcomes: Counter = Counter()
    for text in texts:
        for fmt in formats:
            speech = speaker.speak(text, fmt)
            outcomes["cached" if speech.cached else speech.engine] += 1
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m voice.prebuild", description=__doc__.splitlines()[0])
    parser.add_argument("--domain", type=Path, default=Path("domain.yml"), help="Rasa domain (default: domain.yml)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    fixed = fixed_answers(args.domain)
    outcomes = prebuild(Speaker(VoiceSettings.from_env(), public=fixed), fixed)
    built = ", ".join(f"{outcomes[engine]} by {engine}" for engine in ("gtts", "espeak") if outcomes[engine])
    print(f"{len(fixed)} fixed answers x {len(FORMATS)} formats: built {built or 'none'};"
          f" {outcomes['cached']} already cached; {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
