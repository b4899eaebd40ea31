"""Softphone drivers (drivers/*_phone.py) run as subprocesses, with their milestones."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import netutil

DRIVERS = {
    "baresip": Path(__file__).resolve().parent / "drivers" / "baresip_phone.py",
    "linphone": Path(__file__).resolve().parent / "drivers" / "linphone_phone.py",
}


class Phone:
    def __init__(self, procs, artifacts: Path, name: str, args: list[str], client: str = "baresip"):
        self.client = client
        self.name = name
        self.out = artifacts / f"{name}.out"
        self.err = artifacts / f"{name}.err"
        self.work = artifacts / name
        self.rx = artifacts / f"{name}_rx.wav"
        sip = netutil.free_port(span=2)
        rtp, _ = netutil.free_range(10, 30000, 32700)
        self.rtp_ports = range(rtp, rtp + 10)
        cmd = [sys.executable, str(DRIVERS[client]), *args, "-r", str(self.rx), "-w", str(self.work),
               "-l", str(sip), "-p", str(rtp)]
        with open(self.out, "wb") as o, open(self.err, "wb") as e:
            self.proc = procs.spawn(cmd, stdout=o, stderr=e)

    def lines(self) -> list[str]:
        return self.out.read_text(errors="replace").splitlines() if self.out.exists() else []

    def values(self, milestone: str) -> list[str]:
        return [line.split(" ", 1)[1] for line in self.lines() if line.startswith(milestone + " ")]

    def saw(self, milestone: str) -> bool:
        return any(line.split(" ")[0] == milestone for line in self.lines())

    def wait_for(self, milestone: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.saw(milestone):
                return True
            if self.proc.poll() is not None:
                return self.saw(milestone)
            time.sleep(0.1)
        return False

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            return -1

    def describe(self) -> str:
        log = self.work / ("baresip.log" if self.client == "baresip" else "linphonec.out")
        tail = "\n".join(log.read_text(errors="replace").replace("\r", "\n").splitlines()[-40:]) \
            if log.exists() else "(no log)"
        return (f"--- {self.name}: exit {self.proc.returncode}; milestones ---\n" + "\n".join(self.lines())
                + f"\n--- {self.name} driver stderr ---\n{self.err.read_text(errors='replace')}"
                + f"\n--- {self.name} {log.name} (tail) ---\n{tail}")
