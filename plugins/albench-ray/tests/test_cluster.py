"""A real two-node Ray cluster on this machine: a head and a worker node, each started with
``ray start`` in a process group of its own, one CPU each. Runs land on both nodes; losing
the worker node (its raylet SIGKILLed, or the whole node stopped) or the driver mid-suite
loses nothing, and every record equals the local executor's."""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from albench.executors import LocalExecutor
from albench.results import DB_NAME, ResultStore
from albench.runner import run_specs
from albench.spec import load_suite

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("ray") is None, reason="needs the ray CLI")]

SUITE = """
name = "tiny-cluster"
seeds = [0, 1]
threads = 1
strategies = ["random", "entropy"]
initial_labeled = 20
rounds = 4

[training]
epochs = 20
batch_size = 16

[[settings]]
dataset = "digits"
model = "mlp"
batch_size = 10
"""

HEAD_PORT = 26530
RAY_ENV = {"RAY_AUTH_MODE": "disabled",  # token auth would need the token on every node
           # notice a lost node within seconds rather than the default 30 s or so
           "RAY_health_check_initial_delay_ms": "1000", "RAY_health_check_period_ms": "1000",
           "RAY_health_check_timeout_ms": "1000", "RAY_health_check_failure_threshold": "3"}
START_TIMEOUT = 120
_ports = itertools.count(HEAD_PORT + 10, 40)


@dataclass
class Node:
    """A ``ray start --block`` process and the processes it started (one process group)."""

    process: subprocess.Popen
    log: Path
    id: str = ""
    """The node's Ray id, once it has joined."""
    head: str = ""
    """The head node's Ray id (worker nodes)."""

    def raylet(self) -> int:
        out = subprocess.run(["pgrep", "-g", str(self.process.pid), "-x", "raylet"], check=False,
                             capture_output=True, text=True).stdout.split()
        assert len(out) == 1, f"expected one raylet in group {self.process.pid}, got {out}"
        return int(out[0])

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop every process of the node, as ``ray stop`` would on its machine."""
        for current in (sig, signal.SIGKILL):
            try:
                os.killpg(self.process.pid, current)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=15)
                break
            except subprocess.TimeoutExpired:
                continue
        self.process.wait()
        _wait_group_gone(self.process.pid)


def _wait_group_gone(group: int) -> None:
    for _ in range(100):
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            return
        time.sleep(0.1)


def start_node(temp_dir: Path, head: bool) -> Node:
    """Start a node in the background and return once it has joined the cluster."""
    base = next(_ports)
    command = ["ray", "start", "--block", "--num-cpus", "1", "--disable-usage-stats",
               "--temp-dir", str(temp_dir), "--object-store-memory", "100000000",
               "--min-worker-port", str(base), "--max-worker-port", str(base + 29),
               "--node-manager-port", str(base + 30),
               "--object-manager-port", str(base + 31),
               "--dashboard-agent-listen-port", str(base + 32),
               "--dashboard-agent-grpc-port", str(base + 33),
               "--runtime-env-agent-port", str(base + 34),
               "--metrics-export-port", str(base + 35)]
    if head:
        command += ["--head", "--port", str(HEAD_PORT), "--include-dashboard", "false"]
    else:
        command += ["--address", f"127.0.0.1:{HEAD_PORT}"]
    log = temp_dir.with_suffix(".log")
    with open(log, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, **RAY_ENV}, start_new_session=True)
    node = Node(process, log)
    deadline = time.monotonic() + START_TIMEOUT
    while "Ray runtime started" not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            node.stop(signal.SIGKILL)
            pytest.fail(f"ray start did not start a node:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    return node


def alive_nodes() -> set[str]:
    """The ids of the cluster's live nodes, asked from a fresh driver."""
    code = ("import ray; ray.init(); "
            "print(' '.join(n['NodeID'] for n in ray.nodes() if n['Alive']))")
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True,
                         env={**os.environ, **RAY_ENV, "RAY_ADDRESS": ADDRESS}, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return set(out.stdout.split())


ADDRESS = f"127.0.0.1:{HEAD_PORT}"


def wait_for_nodes(ready) -> set[str]:
    """The cluster's live nodes once ``ready(alive)`` holds, within ``START_TIMEOUT``."""
    deadline = time.monotonic() + START_TIMEOUT
    while not ready(alive := alive_nodes()):
        assert time.monotonic() < deadline, f"the cluster's live nodes stayed {alive}"
        time.sleep(1)
    return alive


@pytest.fixture(scope="module")
def base_dir():
    path = Path(tempfile.mkdtemp(prefix="r22c", dir="/tmp"))  # Ray's socket paths are short
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def head(base_dir):
    node = start_node(base_dir / "head", head=True)
    (node.id,) = wait_for_nodes(lambda alive: len(alive) == 1)
    yield node
    node.stop()


@pytest.fixture
def worker(head, base_dir, monkeypatch):
    """A worker node joined to ``head``, and the driver pointed at the cluster."""
    # the cluster may not yet have noticed that an earlier test's worker node is gone
    wait_for_nodes(lambda alive: alive == {head.id})
    node = start_node(base_dir / f"worker{time.monotonic_ns()}", head=False)
    (node.id,) = wait_for_nodes(lambda alive: len(alive - {head.id}) == 1) - {head.id}
    node.head = head.id
    for key, value in {**RAY_ENV, "RAY_ADDRESS": ADDRESS}.items():
        monkeypatch.setenv(key, value)
    yield node
    node.stop(signal.SIGKILL)


@pytest.fixture(scope="module")
def suite_file(base_dir):
    path = base_dir / "tiny-cluster.toml"
    path.write_text(SUITE)
    return path


@pytest.fixture(scope="module")
def specs(suite_file):
    suite = load_suite(suite_file)
    return suite.run_specs(suite.strategies)


@pytest.fixture(scope="module")
def local(specs, base_dir):
    store = ResultStore(base_dir / "local")
    summary = run_specs(specs, store, LocalExecutor(), progress=False, threads=1)
    assert len(summary.completed) == len(specs)
    return outcomes(store)


def outcomes(store: ResultStore) -> dict:
    return {record.run_id: (record.status, record.round_zero,
                            [(r.accuracy, r.val_accuracy, r.queried) for r in record.rounds])
            for record in store.records()}


def nodes_of(record) -> list[str]:
    """The node ids a record's ``ray_nodes`` names, in order."""
    return [entry.split(" ", 1)[0] for entry in record.environment["ray_nodes"].split("; ")]


def run_losing_the_worker(specs, store: ResultStore, worker: Node, kill) -> list[str]:
    """Run ``specs`` on the cluster, calling ``kill()`` once a run on ``worker`` has stored a
    round; the ids of the runs that were on the worker then."""
    from albench_ray.executor import RayExecutor

    executor = RayExecutor()
    victims: list[str] = []
    original = executor.execute

    def execute(jobs, handle):
        def watch(message):
            handle(message)
            on = executor.running.get(message.run_id)
            if message.kind == "round" and not victims and on and on.node == worker.id:
                victims.extend(run_id for run_id, w in executor.running.items()
                               if w.node == worker.id)
                kill()
        original(jobs, watch)

    executor.execute = execute
    summary = run_specs(specs, store, executor, progress=False, threads=1)
    assert not summary.failed, summary.failed
    assert sorted(summary.completed) == sorted(spec.run_id for spec in specs)
    return victims


@pytest.mark.parametrize("loss", ["raylet SIGKILL", "node stopped"])
def test_runs_on_a_lost_node_resume_on_the_survivor(loss, worker, specs, local, base_dir):
    store = ResultStore(base_dir / f"cluster-{loss.replace(' ', '-')}")
    kill = ((lambda: os.kill(worker.raylet(), signal.SIGKILL)) if loss == "raylet SIGKILL"
            else worker.stop)
    victims = run_losing_the_worker(specs, store, worker, kill)

    assert victims, "no run on the worker node stored a round"
    assert outcomes(store) == local  # nothing lost, nothing computed differently
    assert all(status == "complete" for status, _, _ in outcomes(store).values())
    records = {record.run_id: record for record in store.records()}
    for run_id in victims:
        entries = records[run_id].environment["ray_nodes"].split("; ")
        assert nodes_of(records[run_id])[-2:] == [worker.id, worker.head]
        assert int(entries[-1].rsplit(" ", 1)[1]) >= 1  # resumed, not started again
    used = {node for record in records.values() for node in nodes_of(record)}
    assert worker.id in used and len(used) == 2  # runs landed on both nodes


def test_a_killed_driver_is_rerun_against_the_running_cluster(worker, suite_file, local,
                                                               base_dir):
    results = base_dir / "driver-killed"
    command = [sys.executable, "-m", "albench.cli", "run", "--all", "--suite", str(suite_file),
               "--executor", "ray", "--results", str(results), "--no-leaderboard", "--quiet"]
    first = subprocess.Popen(command, env=os.environ.copy(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    stored = 0
    try:
        deadline = time.monotonic() + 300
        while stored == 0:
            assert first.poll() is None, f"the driver ended with {first.returncode}"
            assert time.monotonic() < deadline, "no round stored in 300 s"
            time.sleep(0.5)
            if (results / DB_NAME).exists():
                stored = sum(len(r.rounds) for r in ResultStore(results).records())
    finally:
        first.kill()
        first.wait()
    before = {r.run_id: len(r.rounds) for r in ResultStore(results).records()}
    assert sum(before.values()) >= 1

    second = subprocess.run(command, check=False, env=os.environ.copy(), capture_output=True,
                            text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-3000:]
    assert outcomes(ResultStore(results)) == local
    assert worker.id in alive_nodes()  # the cluster outlived its first driver
