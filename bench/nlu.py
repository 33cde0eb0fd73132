"""NLU quality and speed on the held-out sets: as typed, without diacritics, and through speech.

Run in the Rasa environment:  .venv-rasa/bin/python bench/nlu.py [--model M] [--data D ...] [--json OUT]
    [--speech-sample N]
Prints, per test set, a table: intent accuracy, macro F1, entity F1 (on entity type and canonical value),
parse latency p50/p95 per message. "through speech" is an evenly spaced sample of the set's sentences
written with diacritics, spoken by espeak-ng and heard by viet-asr (bench/nlu_heard.py, in the application
environment); "spoken sample" is the same sample as typed, so the two rows differ only by the speech.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

from common.text import strip_diacritics  # noqa: E402

# heldout.yml: written with the training data; fresh.yml: written later by someone who had seen neither;
# elder.yml: written blind on 2026-12-02 by a process that had seen no training data nor the other sets;
# blind.yml: likewise, after a later change to the training data (the next change was briefed with its errors);
# blind2.yml: likewise, after a later change (the next change was briefed with its errors too);
# blind3.yml: likewise, written after the last change to the training data.
HELD_OUT = ("heldout.yml", "fresh.yml", "elder.yml", "blind.yml", "blind2.yml", "blind3.yml")
APP_PYTHON = ROOT / ".venv" / "bin" / "python"


def macro_f1(pairs: list[tuple[str, str]]) -> float:
    labels = {gold for gold, _ in pairs}
    scores = []
    for label in labels:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        fp = sum(1 for g, p in pairs if g != label and p == label)
        fn = sum(1 for g, p in pairs if g == label and p != label)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def entity_f1(gold: list[Counter], predicted: list[Counter]) -> float:
    tp = sum(sum((g & p).values()) for g, p in zip(gold, predicted))
    fp = sum(sum((p - g).values()) for g, p in zip(gold, predicted))
    fn = sum(sum((g - p).values()) for g, p in zip(gold, predicted))
    return 2 * tp / (2 * tp + fp + fn) if tp else 1.0 if not (fp or fn) else 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def heard(sets: list[str], size: int) -> dict[str, list[dict]]:
    """Per set, what viet-asr heard of a sample of its sentences (bench/nlu_heard.py in the app environment)."""
    out = ROOT / "var" / "nlu-heard"
    subprocess.run([str(APP_PYTHON), str(ROOT / "bench" / "nlu_heard.py"), *sets, "--sample", str(size),
                    "--out", str(out)], check=True, capture_output=True)
    return {Path(s).name: json.loads((out / f"{Path(s).stem}.json").read_text(encoding="utf-8")) for s in sets}


async def evaluate(agent, examples: list, strip: bool = False) -> dict:
    pairs, gold_entities, predicted_entities, latencies, misses = [], [], [], [], []
    for example in examples:
        text = example.get("text")
        text = strip_diacritics(text) if strip else text
        started = time.perf_counter()
        parsed = await agent.parse_message(text)
        latencies.append((time.perf_counter() - started) * 1000)
        gold, predicted = example.get("intent"), parsed["intent"]["name"]
        pairs.append((gold, predicted))
        gold_entities.append(Counter((e["entity"], str(e["value"])) for e in example.get("entities") or []))
        predicted_entities.append(Counter((e["entity"], str(e["value"])) for e in parsed["entities"]))
        if gold != predicted or gold_entities[-1] != predicted_entities[-1]:
            misses.append({"text": text, "intent": gold, "predicted": predicted,
                           "entities": sorted(gold_entities[-1].elements()),
                           "predicted_entities": sorted(predicted_entities[-1].elements())})
    return {
        "n": len(examples),
        "intent_accuracy": sum(g == p for g, p in pairs) / len(pairs),
        "macro_f1": macro_f1(pairs),
        "entity_f1": entity_f1(gold_entities, predicted_entities),
        "p50_ms": statistics.median(latencies),
        "p95_ms": percentile(latencies, 0.95),
        "misses": misses,
    }


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(ROOT / "models" / "trolyhue.tar.gz"))
    parser.add_argument("--data", action="append", help="a test set (repeatable); default: both held-out sets")
    parser.add_argument("--json", help="also write the figures (and every miss) to this file")
    parser.add_argument("--speech-sample", type=int, default=60,
                        help="sentences per set spoken and recognised (0: no speech row)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    import structlog
    from rasa.core.agent import Agent
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.message import Message

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    agent = Agent.load(args.model)
    await agent.parse_message("khởi động")  # the first parse builds TensorFlow graphs
    results = {}
    sets = args.data or [str(ROOT / "tests" / "nlu" / name) for name in HELD_OUT]
    spoken = heard(sets, args.speech_sample) if args.speech_sample > 0 else {}
    for data in sets:
        examples = load_data(data).intent_examples
        results[Path(data).name] = found = {"as typed": await evaluate(agent, examples),
                                            "no diacritics": await evaluate(agent, examples, strip=True)}
        if spoken.get(Path(data).name):
            sample = spoken[Path(data).name]
            found["spoken sample"] = await evaluate(agent, [Message(data={"text": s["text"], "intent": s["intent"]})
                                                            for s in sample])
            found["through speech"] = await evaluate(agent, [Message(data={"text": s["heard"], "intent": s["intent"]})
                                                             for s in sample])
        print(f"NLU on {Path(data).name}, model {Path(args.model).name}")
        print("| input          |   n | intent accuracy | macro F1 | entity F1 | parse p50 | parse p95 |")
        print("|----------------|-----|-----------------|----------|-----------|-----------|-----------|")
        for name, r in found.items():
            entity = "-" if name in ("spoken sample", "through speech") else f"{r['entity_f1']:.3f}"
            print(f"| {name:14s} | {r['n']:3d} | {r['intent_accuracy']:15.3f} | {r['macro_f1']:8.3f} | "
                  f"{entity:>9s} | {r['p50_ms']:6.1f} ms | {r['p95_ms']:6.1f} ms |")
        loss = found["as typed"]["intent_accuracy"] - found["no diacritics"]["intent_accuracy"]
        print(f"intent accuracy lost without diacritics: {100 * loss:.1f} points")
        if "through speech" in found:
            loss = found["spoken sample"]["intent_accuracy"] - found["through speech"]["intent_accuracy"]
            print(f"intent accuracy lost through speech (espeak-ng -> viet-asr): {100 * loss:.1f} points")
        print()
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
