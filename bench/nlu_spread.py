"""How far the NLU's figures move from one training to the next.

Run in the Rasa environment:  .venv-rasa/bin/python bench/nlu_spread.py [--trainings 2] [--json OUT]

Trains the assistant several times as scripts/lib.sh does, with the settings of scripts/rasa.env, and evaluates
each model on the held-out sets as typed and without diacritics. Prints every figure per training, then
min / median / max over the trainings: the floors of tests/rasa/test_assistant.py sit under them. Our
classifier (hue_nlu/classifier.py) has no randomness: the trainings must agree exactly, and the run says so.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

FIGURES = {"accuracy": "intent_accuracy", "entity F1": "entity_f1"}


def rasa_env() -> dict[str, str]:
    lines = (ROOT / "scripts" / "rasa.env").read_text().splitlines()
    settings = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    # No training cache: each training must really train (a cached one would "agree" by construction).
    return {**os.environ, **settings, "RASA_TELEMETRY_ENABLED": "false", "RASA_MAX_CACHE_SIZE": "0"}


os.environ.update(rasa_env())  # the evaluations below run TensorFlow in this process: the same settings


def train(out: Path) -> tuple[Path, float]:
    started, name = time.perf_counter(), f"nlu-{time.time_ns()}"
    # A whole training, as scripts/lib.sh does: with the domain, Rasa also trains the featurizers on its answers,
    # so an NLU-only training would measure another model.
    subprocess.run([str(ROOT / ".venv-rasa" / "bin" / "rasa"), "train", "--data", "nlu_data", "--domain", "domain.yml",
                    "--config", "config.yml", "--out", str(out), "--fixed-model-name", name],
                   cwd=ROOT, env=rasa_env(), check=True, capture_output=True)
    return out / f"{name}.tar.gz", time.perf_counter() - started


async def figures(model: Path) -> dict:
    import logging

    import structlog
    from nlu import HELD_OUT, evaluate
    from rasa.core.agent import Agent
    from rasa.shared.nlu.training_data.loading import load_data

    logging.disable(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    agent = Agent.load(str(model))
    found = {}
    for name in HELD_OUT:
        examples = load_data(str(ROOT / "tests" / "nlu" / name)).intent_examples
        for strip, label in ((False, "as typed"), (True, "no diacritics")):
            result = await evaluate(agent, examples, strip=strip)
            for figure, key in FIGURES.items():
                found[f"{name} {label} {figure}"] = round(result[key], 4)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trainings", type=int, default=2)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="nlu-spread-") as folder:
        for run in range(1, args.trainings + 1):
            model, seconds = train(Path(folder))
            results.append({"training": run, "train_seconds": round(seconds, 1), **asyncio.run(figures(model))})
            print(f"training {run}: {seconds:.0f} s", file=sys.stderr)
    names = [k for k in results[0] if k not in ("training", "train_seconds")]
    print("| figure | " + " | ".join(f"training {r['training']}" for r in results) + " | min | median | max |")
    print("|---" * (len(results) + 4) + "|")
    spread = {}
    for name in names:
        values = [r[name] for r in results]
        spread[name] = {"min": min(values), "median": statistics.median(values), "max": max(values)}
        print(f"| {name} | " + " | ".join(f"{v:.3f}" for v in values)
              + f" | {min(values):.3f} | {statistics.median(values):.3f} | {max(values):.3f} |")
    losses = [r["heldout.yml as typed accuracy"] - r["heldout.yml no diacritics accuracy"] for r in results]
    print(f"heldout.yml: accuracy lost without diacritics, min / median / max: "
          f"{min(losses):.3f} / {statistics.median(losses):.3f} / {max(losses):.3f}")
    same = all({k: r[k] for k in names} == {k: results[0][k] for k in names} for r in results)
    print(f"{len(results)} trainings: {'identical figures' if same else 'DIFFERENT figures'}")
    if args.json:
        Path(args.json).write_text(json.dumps({"trainings": results, "spread": spread}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
