"""What the production topology carries: simulated citizens (bench/citizens.py: reports, status, bookings, help,
with think time) through nginx, with 2 replicas of each service, then 1, then Rasa's own REST channel called
directly as the baseline. Turns per second, turn latency p50/p95/p99, errors, and CPU seconds per turn for each
service: on 2 cores, the CPU per turn, not the wall time, says what a bigger machine or more replicas carry.

Run as root (it sets up Debian's PostgreSQL, nginx and Redis through scripts/topology):
    .venv/bin/python bench/load.py [--citizens 24] [--seconds 90] [--think 3]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.citizens import Record, crowd, percentile  # noqa: E402
from bench.topology import Topology, fresh_databases  # noqa: E402

SERVICES = ["proxy", "gateway-1", "gateway-2", "rasa-1", "rasa-2", "actions-1", "actions-2", "cityapi", "redis",
            "postgres"]
GROUPS = {"proxy": ["proxy"], "gateways": ["gateway-1", "gateway-2"], "rasa": ["rasa-1", "rasa-2"],
          "actions": ["actions-1", "actions-2"], "cityapi": ["cityapi"], "redis": ["redis"], "postgres": ["postgres"]}


def measure(topology: Topology, label: str, url: str, args, rasa_direct: bool = False) -> dict:
    before = {name: topology.cpu_seconds(name) for name in SERVICES}
    started = time.monotonic()
    record: Record = asyncio.run(crowd(url, args.citizens, args.seconds, args.think, seed=len(label),
                                       rasa_direct=rasa_direct))
    wall = time.monotonic() - started
    cpu = {name: topology.cpu_seconds(name) - before[name] for name in SERVICES}
    turns = record.turns
    answered = [t.seconds for t in turns if t.status == 200]
    return {
        "label": label, "turns": len(turns), "turns_per_second": len(answered) / wall,
        "p50": percentile(answered, 50), "p95": percentile(answered, 95), "p99": percentile(answered, 99),
        "errors": sum(t.status != 200 for t in turns), "off_script": sum(not t.on_script for t in turns),
        "cpu_per_turn": {group: sum(cpu[n] for n in names) / max(1, len(answered)) for group, names in GROUPS.items()},
        "cpu_seconds": sum(cpu.values()), "wall_seconds": wall,
    }


def table(rows: list[dict]) -> str:
    groups = list(GROUPS)
    lines = ["| run | turns/s | p50 ms | p95 ms | p99 ms | errors | " + " | ".join(f"CPU ms/turn {g}" for g in groups)
             + " | CPU ms/turn all |", "|" + "---|" * (7 + len(groups))]
    for r in rows:
        cpu = r["cpu_per_turn"]
        lines.append(f"| {r['label']} | {r['turns_per_second']:.1f} | {r['p50'] * 1000:.0f} | {r['p95'] * 1000:.0f} "
                     f"| {r['p99'] * 1000:.0f} | {r['errors']}/{r['turns']} | "
                     + " | ".join(f"{cpu[g] * 1000:.1f}" for g in groups)
                     + f" | {sum(cpu.values()) * 1000:.1f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--citizens", type=int, default=24)
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--think", type=float, default=3.0, help="seconds between a citizen's turns (about)")
    parser.add_argument("--database", default=os.environ.get("TEST_DATABASE_URL",
                                                             "postgresql:///postgres?host=/var/run/postgresql"))
    args = parser.parse_args()
    var = Path(tempfile.mkdtemp(prefix="trolyhue-load-"))
    topology = Topology(var, fresh_databases(args.database, "trolyhue_load"))
    rows = []
    try:
        topology.start()
        asyncio.run(crowd(topology.proxy, 4, 10, 0.5))  # warm: first turns load what each process loads lazily
        rows.append(measure(topology, "2 of each, through nginx", topology.proxy, args))
        for name in ("gateway-2", "rasa-2", "actions-2"):
            topology.kill(name)
        time.sleep(3)
        rows.append(measure(topology, "1 of each, through nginx", topology.proxy, args))
        rows.append(measure(topology, "Rasa REST directly (baseline)", topology.url("rasa-1"), args, rasa_direct=True))
    finally:
        topology.stop()
    print(f"{args.citizens} citizens, think time about {args.think} s, {args.seconds:.0f} s per run, "
          f"{os.cpu_count()} cores")
    print(table(rows))
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "load.json").write_text(json.dumps({"args": vars(args), "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
