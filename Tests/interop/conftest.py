"""Fixtures for the interop suite: a fresh pbxd per test (own config dir, data dir,
free ports, all on 127.0.0.1), a per-test artifacts directory, and a registry of
spawned peer processes that are always stopped by PID at the end of the test."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from capture import Capture, sip_trace  # noqa: E402
from pbxdproc import REPO, Pbxd  # noqa: E402

ARTIFACTS = Path(os.environ.get("INTEROP_ARTIFACTS", REPO / ".build/interop-artifacts"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _failed(request) -> bool:
    rep = getattr(request.node, "rep_call", None)
    return rep is None or rep.failed


@pytest.fixture
def artifacts(request) -> Path:
    """Per-test directory for configs, logs and SIP traces (kept after the run)."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)[:100]
    d = ARTIFACTS / name
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    return d


class Procs:
    """Processes a test spawned; each is stopped by its own PID at teardown."""

    def __init__(self):
        self.items: list[subprocess.Popen] = []

    def spawn(self, args, **kw) -> subprocess.Popen:
        kw.setdefault("start_new_session", True)
        kw.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen(args, **kw)
        self.items.append(p)
        return p

    def stop_all(self, grace: float = 5.0) -> None:
        for p in self.items:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.items:
            try:
                p.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)


@pytest.fixture
def procs():
    reg = Procs()
    yield reg
    reg.stop_all()


@pytest.fixture
def pbxd(request, artifacts, procs):
    """A running pbxd with peers 1001/1002/811/812; stopped (SIGTERM to its PID,
    SIGKILL after 10 s) at teardown, which fails if the stop was not clean."""
    inst = Pbxd(artifacts / "pbxd")
    # pbxd's SIP traffic, both legs, for the failure report (diagnostics only: a
    # capture that cannot start is reported, not fatal)
    try:
        cap = Capture(procs, artifacts / "sip.pcap", f"port {inst.sip_port}", snaplen=0)
    except (OSError, RuntimeError) as e:
        cap = None
        print(f"WARNING: no SIP capture for this test: {e}")

    def trace() -> str:
        if cap is None:
            return "(no capture)"
        cap.stop()
        return f"--- SIP on pbxd's port {inst.sip_port} ({cap.path}) ---\n{sip_trace(cap.path)}"

    try:
        inst.start()
    except Exception:
        inst.close()
        print(trace())
        raise
    yield inst
    was_alive = inst.alive()
    rc, killed = inst.stop()
    inst.close()
    text = trace()
    if _failed(request):
        print(text)
        print(f"--- pbxd log tail ({inst.log_path}) ---\n{inst.log_tail(80)}")
    if not was_alive:
        pytest.fail(f"pbxd was not running at the end of the test (exit code {rc}); "
                    f"log tail:\n{inst.log_tail(40)}")
    if killed:
        pytest.fail("pbxd did not exit within 10 s of SIGTERM (killed with SIGKILL)")
    # exit code 0 after SIGTERM is checked by test_lifecycle.py; here only crashes count
    if rc not in (0, -signal.SIGTERM):
        pytest.fail(f"pbxd exited with code {rc} after SIGTERM; log tail:\n{inst.log_tail(40)}")
