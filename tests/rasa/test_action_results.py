"""rasa_stores.action_results, in Rasa's own environment: installed wherever Rasa loads our stores, it validates
an action server's answer as Rasa does, without re-checking the schema each time."""
from __future__ import annotations

import json
import subprocess

from tests.rasa.test_assistant import ROOT, rasa_env

CHECK = """
import json, sys
import jsonschema
import rasa_stores  # what endpoints.yml makes every Rasa server import
from rasa.core.actions.action import RemoteAction
from rasa_stores.action_results import validate_action_result
assert RemoteAction._validate_action_result is validate_action_result
action = RemoteAction("action_x", None)
meta_checks = []
jsonschema.validators.Draft202012Validator.check_schema = lambda schema: meta_checks.append(1)
good = {"events": [{"event": "slot", "name": "ward", "value": "Vỹ Dạ"}], "responses": [{"text": "Dạ"}]}
results = [action._validate_action_result(good) for _ in range(3)]
try:
    action._validate_action_result({"events": [{"event": "no_such_event"}]})
    bad = "accepted"
except jsonschema.ValidationError as error:
    bad = error.message
print(json.dumps({"good": results, "bad": bad, "meta_checks": len(meta_checks)}))
"""


def test_action_answers_are_validated_without_checking_the_schema_each_time():
    done = subprocess.run([str(ROOT / ".venv-rasa" / "bin" / "python"), "-c", CHECK], cwd=ROOT, env=rasa_env(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["good"] == [True, True, True]
    assert "is not valid" in result["bad"] and "Failed to validate Action server response" in result["bad"]
    assert result["meta_checks"] == 0
