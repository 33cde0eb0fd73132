"""Rasa 3.6 checks an action server's answer with `jsonschema.validate`, which first checks the schema itself
against the JSON Schema meta-schema: on every custom action, for the same constant schema. Profiled here that
was half of a Rasa turn's CPU (bench/voice.py's calls). The answer is validated the same way with a validator
built once; an invalid answer still raises the ValidationError Rasa expects, with Rasa's own hint."""
from __future__ import annotations

from functools import cache

from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@cache
def _validator():
    schema = RemoteAction.action_response_format_spec()
    return validator_for(schema)(schema)  # the schema is Rasa's own, checked by its tests


def validate_action_result(self: RemoteAction, result: dict) -> bool:
    error = best_match(_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (". Failed to validate Action server response from API, make sure your response from the "
                      f"Action endpoint is valid. For more information about the format visit "
                      f"{DOCS_BASE_URL}/custom-actions")
    raise error


def install() -> None:
    RemoteAction._validate_action_result = validate_action_result
