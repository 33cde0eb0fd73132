"""docker-compose.yml and scripts/topology describe one production topology: the same services on the same
ports, the same settings for every service, and the same nginx pools (deploy/nginx.conf.template)."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = (ROOT / "scripts" / "topology").read_text()
COMPOSE = YAML(typ="safe").load((ROOT / "docker-compose.yml").read_text())
TEMPLATE = (ROOT / "deploy" / "nginx.conf.template").read_text()
INFRASTRUCTURE = {"proxy", "postgres", "redis"}


def script_services() -> dict[str, tuple[str, int]]:
    """name -> (kind, port), from the script's own table, evaluated by bash with the default ports."""
    table = re.search(r"^PROXY_PORT=.*?^\)$", SCRIPT, re.M | re.S).group()
    lines = subprocess.run(["bash", "-c", table + '\nprintf "%s\\n" "${SERVICES[@]}"'], capture_output=True,
                           text=True, check=True, env={}).stdout.split("\n")
    return {name: (kind, int(port)) for kind, name, port in (line.split() for line in lines if line)}


def script_defaults() -> dict[str, int]:
    return {name: int(port) for name, port in re.findall(r"\b([A-Z_]+_PORT)=\$\{\1:-(\d+)\}", SCRIPT)}


def script_settings() -> set[str]:
    """What every service of the script's topology reads from its environment."""
    lib = (ROOT / "scripts" / "lib.sh").read_text()
    exported = set()
    for line in re.findall(r"^\s*export ([^\n]+)", SCRIPT + lib, re.M):
        exported |= {token.split("=")[0] for token in line.split() if re.match(r"[A-Z_]+(=|$)", token)}
    secrets = set(re.findall(r"\^([A-Z_]+)=", lib)) | {"CITYAPI_API_KEYS"}  # local_secrets writes both key lines
    return exported | secrets


def port_in(command: str) -> int:
    return int(re.search(r"--port (\d+)", command).group(1))


def test_the_same_services_on_the_same_ports():
    services = script_services()
    assert set(COMPOSE["services"]) - INFRASTRUCTURE == set(services)
    for name, (kind, port) in services.items():
        assert port_in(COMPOSE["services"][name]["command"]) == port, name
        assert COMPOSE["services"][name]["environment"]["SERVICE_NAME"] == name
    assert sorted(kind for kind, _ in services.values()) == sorted(
        ["cityapi"] + ["actions"] * 2 + ["rasa"] * 2 + ["gateway"] * 2)


def test_the_proxy_pools_name_the_same_replicas():
    services, defaults = script_services(), script_defaults()
    proxy = COMPOSE["services"]["proxy"]["environment"]
    by_kind = {}
    for name, (kind, port) in sorted(services.items()):
        by_kind.setdefault(kind, []).append(f"{name}:{port}")
    assert [proxy["GATEWAY_1"], proxy["GATEWAY_2"]] == by_kind["gateway"]
    assert [proxy["RASA_1"], proxy["RASA_2"]] == by_kind["rasa"]
    assert [proxy["ACTIONS_1"], proxy["ACTIONS_2"]] == by_kind["actions"]
    assert int(proxy["PROXY_LISTEN"]) == defaults["PROXY_PORT"]
    assert int(proxy["RASA_POOL_LISTEN"]) == defaults["RASA_POOL_PORT"]
    assert int(proxy["ACTIONS_POOL_LISTEN"]) == defaults["ACTIONS_POOL_PORT"]
    # The template's variables: those the compose file sets and the script substitutes, no more, no fewer.
    variables = set(re.findall(r"\$\{([A-Z_0-9]+)\}", TEMPLATE))
    assert variables == set(proxy)
    assert variables == set(re.findall(r"\$([A-Z_0-9]+)", re.search(r"envsubst '([^']+)'", SCRIPT).group(1)))
    assert COMPOSE["services"]["proxy"]["ports"] == [f"{defaults['PROXY_PORT']}:{defaults['PROXY_PORT']}"]


def test_every_service_gets_the_same_settings():
    settings = set(COMPOSE["x-environment"])
    expected = script_settings() - {"PYTHONPATH"}
    assert settings == expected, (settings - expected, expected - settings)
    for name in set(COMPOSE["services"]) - INFRASTRUCTURE:
        assert set(COMPOSE["services"][name]["environment"]) == settings | {"SERVICE_NAME"}, name
    # Where the services find each other: the pools through the proxy, on the script's ports.
    defaults, env = script_defaults(), COMPOSE["x-environment"]
    assert env["RASA_URL"] == f"http://proxy:{defaults['RASA_POOL_PORT']}"
    assert env["ACTION_ENDPOINT_URL"] == f"http://proxy:{defaults['ACTIONS_POOL_PORT']}/webhook"
    assert env["CITYAPI_URL"] == f"http://cityapi:{defaults['CITYAPI_PORT']}"


def test_the_proxy_refuses_as_politely_as_a_gateway():
    from bot.context import BUSY, TOO_LARGE

    assert json.loads(re.search(r"return 503 '([^']+)'", TEMPLATE).group(1)) == {"error": BUSY}
    assert json.loads(re.search(r"return 413 '([^']+)'", TEMPLATE).group(1)) == {"error": TOO_LARGE}
