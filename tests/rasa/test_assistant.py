"""Rasa's own checks on the trained assistant: data validation, test stories, NLU cross-validation."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import REPORTS

ROOT = Path(__file__).resolve().parents[2]
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
MODEL = ROOT / "models" / "trolyhue.tar.gz"
# What the model was trained from (scripts/lib.sh): cross-validation is redone only when that changes.
TRAINED = ROOT / "models" / ".trained.sha256"


def rasa_env() -> dict[str, str]:
    """Rasa's processes get the settings of scripts/rasa.env, as scripts/start and the training give them."""
    lines = (ROOT / "scripts" / "rasa.env").read_text().splitlines()
    settings = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    return {**os.environ, **settings, "RASA_TELEMETRY_ENABLED": "false"}
# A guard against regressions; 3-fold cross-validation trains on two thirds of a small data set,
# so it reads lower than the held-out figures. Measured 0.836 on 2026-11-28.
MIN_CROSS_VALIDATED_ACCURACY = 0.80


def rasa(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    assert RASA.exists(), "no .venv-rasa: run the tests with ./scripts/test"
    return subprocess.run([str(RASA), *args], cwd=ROOT, env=rasa_env(), capture_output=True, text=True,
                          timeout=timeout)


def test_training_data_is_valid():
    result = rasa("data", "validate", "--data", "nlu_data", "--domain", "domain.yml", "--config", "config.yml")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def test_conversations_follow_the_test_stories(tmp_path):
    assert MODEL.exists(), "no trained model: run the tests with ./scripts/test"
    result = rasa("test", "core", "--model", str(MODEL), "--stories", "tests/test_stories.yml",
                  "--e2e", "--fail-on-prediction-errors", "--out", str(tmp_path))
    failed = tmp_path / "failed_test_stories.yml"
    assert result.returncode == 0, (failed.read_text() if failed.exists() else "") + result.stderr[-4000:]


_cross_validation: tuple[subprocess.Popen | None, Path] | None = None


def _cross_validation_folder() -> Path:
    trained = TRAINED.read_text().strip() if TRAINED.exists() else "untrained"
    return ROOT / "models" / f"cross-validation-{trained[:16]}"


def start_cross_validation() -> None:
    """Called when collection ends (tests/conftest.py): the folds train while the other tests run, most of
    which wait on real time (speech, browsers), instead of adding minutes at the end. Not at all when the data
    and configuration are those of the last cross-validation: its report is read again."""
    global _cross_validation
    out = _cross_validation_folder()
    if (out / "intent_report.json").exists():
        _cross_validation = None, out
        return
    out.mkdir(parents=True, exist_ok=True)
    with (out / "rasa.log").open("w") as log:  # a file, not a pipe: Rasa's warnings would fill a pipe and stall it
        process = subprocess.Popen([str(RASA), "test", "nlu", "--nlu", "nlu_data", "--config", "config.yml",
                                    "--cross-validation", "--folds", "3", "--out", str(out)], cwd=ROOT,
                                   env=rasa_env(), stdout=log, stderr=subprocess.STDOUT)
    _cross_validation = process, out


def stop_cross_validation() -> None:
    if _cross_validation is not None and _cross_validation[0] is not None and _cross_validation[0].poll() is None:
        _cross_validation[0].kill()
        (_cross_validation[1] / "intent_report.json").unlink(missing_ok=True)


def test_nlu_cross_validation():
    if _cross_validation is None:
        start_cross_validation()
    process, out = _cross_validation
    if process is not None:
        assert process.wait(timeout=1800) == 0, (out / "rasa.log").read_text()[-4000:]
    report = json.loads((out / "intent_report.json").read_text())
    accuracy, macro = report["accuracy"], report["macro avg"]
    REPORTS.append(
        f"NLU intent classification, 3-fold cross-validation on nlu_data: accuracy {accuracy:.3f}, "
        f"macro F1 {macro['f1-score']:.3f}, weighted F1 {report['weighted avg']['f1-score']:.3f}\n"
        + "\n".join(f"  {name:20s} F1 {scores['f1-score']:.3f} (n={scores['support']})"
                    for name, scores in sorted(report.items()) if isinstance(scores, dict)
                    and name not in ("macro avg", "weighted avg", "micro avg")))
    assert accuracy >= MIN_CROSS_VALIDATED_ACCURACY


# The floors sit under the lowest figures of several trainings (tests/nlu/spread.json, made by bench/nlu_spread.py:
# one training per seed, with scripts/rasa.env's settings), with a margin for another machine's arithmetic: a
# training that merely drew other numbers passes, a change that makes understanding worse does not.
SPREAD = ROOT / "tests" / "nlu" / "spread.json"
MARGIN = 0.01
MIN_ENTITY_F1 = 0.90


def floors() -> dict[str, dict[str, float]]:
    """Per held-out set: the lowest accuracy as typed. The most accuracy lost without diacritics is taken over
    both sets: on one set alone it is a difference of two noisy figures, at times below zero."""
    trainings = json.loads(SPREAD.read_text())["trainings"]
    sets = sorted({name.split()[0] for name in trainings[0] if name.endswith(".yml as typed accuracy")})
    loss = max(t[f"{name} as typed accuracy"] - t[f"{name} no diacritics accuracy"] for t in trainings for name in sets)
    return {name: {"accuracy": min(t[f"{name} as typed accuracy"] for t in trainings) - MARGIN, "loss": loss + MARGIN}
            for name in sets}


def spread_report() -> str:
    spread = json.loads(SPREAD.read_text())
    seeds = ", ".join(str(t["seed"]) for t in spread["trainings"])
    lines = [f"  {name:36s} {f['min']:.3f} / {f['median']:.3f} / {f['max']:.3f}"
             for name, f in spread["spread"].items() if name.endswith("accuracy")]
    lines += [f"  floors on {name}: accuracy >= {f['accuracy']:.3f}, loss without diacritics <= {f['loss']:.3f}"
              for name, f in floors().items()]
    return f"NLU spread over {len(spread['trainings'])} trainings (seeds {seeds}), min / median / max:\n" + \
        "\n".join(lines)


def test_nlu_on_the_held_out_sets(tmp_path):
    assert MODEL.exists(), "no trained model: run the tests with ./scripts/test"
    result = rasa("test", "nlu", "--nlu", "tests/nlu/heldout.yml", "--model", str(MODEL), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads((tmp_path / "intent_report.json").read_text())
    bench = subprocess.run([str(ROOT / ".venv-rasa" / "bin" / "python"), "bench/nlu.py", "--json",
                            str(tmp_path / "bench.json")], cwd=ROOT, env=rasa_env(), capture_output=True,
                           text=True, timeout=600)
    assert bench.returncode == 0, bench.stderr[-4000:]
    figures = json.loads((tmp_path / "bench.json").read_text())
    typed = figures["heldout.yml"]["as typed"]
    REPORTS.append(
        f"rasa test nlu on tests/nlu/heldout.yml ({typed['n']} utterances never trained on): intent accuracy "
        f"{report['accuracy']:.3f}, macro F1 {report['macro avg']['f1-score']:.3f}, entity F1 (type and value) "
        f"{typed['entity_f1']:.3f}\n" + bench.stdout.strip() + "\n" + spread_report())
    limits = floors()
    assert report["accuracy"] >= limits["heldout.yml"]["accuracy"]
    for name, found in figures.items():
        typed, plain = found["as typed"], found["no diacritics"]
        assert typed["intent_accuracy"] >= limits[name]["accuracy"], name
        assert typed["entity_f1"] >= MIN_ENTITY_F1, name
        assert typed["intent_accuracy"] - plain["intent_accuracy"] <= limits[name]["loss"], name
