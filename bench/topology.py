"""The production topology (scripts/topology) started on free ports for a benchmark or a test, and what a fault
needs of it: each service's processes, their CPU time, killing, freezing and starting one again as it was."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("cityapi", "actions", "rasa", "gateway")
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Launch:
    """How a process was started, read from /proc before it is killed, to start it again the same way."""

    argv: list[str]
    env: dict[str, str]
    cwd: str

    @classmethod
    def of(cls, pid: int) -> "Launch":
        proc = Path(f"/proc/{pid}")
        argv = proc.joinpath("cmdline").read_bytes().rstrip(b"\0").split(b"\0")
        env = dict(item.split(b"=", 1) for item in proc.joinpath("environ").read_bytes().split(b"\0") if b"=" in item)
        return cls([a.decode() for a in argv], {k.decode(): v.decode() for k, v in env.items()},
                   os.readlink(proc / "cwd"))


class Topology:
    def __init__(self, var: Path, stores: dict[str, str], extra_env: dict[str, str] | None = None):
        """`stores`: DATABASE_URL, ACTIONS_DATABASE_URL, GATEWAY_DATABASE_URL, RASA_TRACKER_URL (PostgreSQL)."""
        self.var = var
        self.ports = {"PROXY_PORT": free_port(), "CITYAPI_PORT": free_port(), "RASA_POOL_PORT": free_port(),
                      "ACTIONS_POOL_PORT": free_port(), "REDIS_PORT": free_port()}
        self.replicas = {kind: [free_port(), free_port()] for kind in ("gateway", "rasa", "actions")}
        self.env = {**os.environ, **stores, **self.ports, **(extra_env or {}), "TROLYHUE_VAR": str(var),
                    **{f"{kind.upper()}_PORTS": " ".join(map(str, ports)) for kind, ports in self.replicas.items()}}
        self.env = {k: str(v) for k, v in self.env.items()}
        self.env.pop("REDIS_HOST", None)  # the script starts its own Redis on REDIS_PORT
        self.process: subprocess.Popen | None = None
        self.launches: dict[str, Launch] = {}
        self.extra: dict[str, subprocess.Popen] = {}  # services started again by a fault

    @property
    def proxy(self) -> str:
        return f"http://127.0.0.1:{self.ports['PROXY_PORT']}"

    def url(self, name: str) -> str:
        """A replica's own address ("rasa-1", "gateway-2", "cityapi")."""
        if name == "cityapi":
            return f"http://127.0.0.1:{self.ports['CITYAPI_PORT']}"
        kind, index = name.rsplit("-", 1)
        return f"http://127.0.0.1:{self.replicas[kind][int(index) - 1]}"

    def start(self, timeout: float = 600) -> None:
        self.var.mkdir(parents=True, exist_ok=True)
        log = (self.var / "topology.log").open("wb")
        self.process = subprocess.Popen([str(ROOT / "scripts" / "topology")], cwd=ROOT, env=self.env, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while b" ready: " not in (self.var / "topology.log").read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"scripts/topology did not start:\n{self.tail()}")
            time.sleep(1)
        # The secrets the script made (scripts/lib.sh local_secrets), as every service got them.
        for line in (self.var / "secrets.env").read_text().splitlines():
            name, _, value = line.partition("=")
            self.env.setdefault(name, value)

    def tail(self, lines: int = 60) -> str:
        text = (self.var / "topology.log").read_text(errors="replace").splitlines()
        return "\n".join(line for line in text if not line.startswith("{"))[-8000:] + "\n" + "\n".join(text[-lines:])

    def pid(self, name: str) -> int | None:
        path = self.var / "run" / f"{name}.pid"
        return int(path.read_text()) if path.exists() else None

    def cpu_seconds(self, name: str) -> float:
        """User and system CPU of a service's processes (its own, and its workers: nginx's, Sanic's in the action
        servers, PostgreSQL's backends), as the kernel counts them."""
        return family_cpu_seconds(postgres_pid() if name == "postgres" else self.pid(name))

    def signal(self, name: str, sig: int) -> None:
        """To the service's process and its workers: an action server's Sanic serves from a forked worker."""
        for pid in _family(self.pid(name), _stats()):
            os.kill(pid, sig)

    def kill(self, name: str) -> None:
        self.launches[name] = Launch.of(self.pid(name))
        self.signal(name, signal.SIGKILL)

    def freeze(self, name: str) -> None:
        self.signal(name, signal.SIGSTOP)

    def thaw(self, name: str) -> None:
        self.signal(name, signal.SIGCONT)

    def restart(self, name: str) -> None:
        """Start a killed service again, as it was started."""
        launch = self.launches[name]
        log = (self.var / f"{name}.restarted.log").open("ab")
        process = subprocess.Popen(launch.argv, env=launch.env, cwd=launch.cwd, stdout=log, stderr=log,
                                   start_new_session=True)
        self.extra[name] = process
        (self.var / "run" / f"{name}.pid").write_text(str(process.pid))

    def stop(self) -> None:
        for process in self.extra.values():
            process.kill()
            process.wait()
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def family_cpu_seconds(pid: int | None) -> float:
    """User and system CPU of a process and its descendants, as the kernel counts them."""
    stats = _stats()
    return sum(stats[p][1] for p in _family(pid, stats)) / TICKS if pid is not None else 0.0


def _stats() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, CPU ticks) of every process."""
    stats = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(stat.parent.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))  # ppid, utime + stime
    return stats


def _family(pid: int, stats: dict[int, tuple[int, int]]) -> list[int]:
    """The process and its descendants."""
    family, frontier = [pid], [pid]
    while frontier:
        frontier = [p for p, (parent, _) in stats.items() if parent in frontier]
        family += frontier
    return [p for p in family if p in stats]


def fresh_databases(server: str, prefix: str) -> dict[str, str]:
    """Empty PostgreSQL databases, one per system, beside `server`'s; the four store settings that name them."""
    import asyncio

    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    from common.database import create_engine

    names = {"DATABASE_URL": "city", "ACTIONS_DATABASE_URL": "actions", "GATEWAY_DATABASE_URL": "gateway",
             "RASA_TRACKER_URL": "rasa"}

    async def create() -> None:
        engine = create_engine(server)
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            for name in names.values():
                await conn.execute(sa.text(f"DROP DATABASE IF EXISTS {prefix}_{name} WITH (FORCE)"))
                await conn.execute(sa.text(f"CREATE DATABASE {prefix}_{name}"))
        await engine.dispose()

    asyncio.run(create())
    return {setting: make_url(server).set(database=f"{prefix}_{name}").render_as_string(hide_password=False)
            for setting, name in names.items()}


def postgres_pid() -> int | None:
    """The local PostgreSQL's postmaster (its backends are its children), for CPU figures."""
    for pidfile in Path("/var/run/postgresql").glob("*.pid"):
        return int(pidfile.read_text().split()[0])
    return None
