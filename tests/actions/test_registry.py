"""The action server registers every action the domain names, and nothing else of ours."""
from __future__ import annotations

from pathlib import Path

from rasa_sdk.executor import ActionExecutor
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]


def test_the_action_server_registers_exactly_the_domains_custom_actions():
    executor = ActionExecutor()
    executor.register_package("actions")
    domain = YAML(typ="safe", pure=True).load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    custom = {name for name in domain["actions"] if name.startswith(("action_", "validate_"))}
    assert set(executor.actions) == custom
