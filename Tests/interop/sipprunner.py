"""Run a SIPp scenario from Tests/interop/sipp/ and keep its traces.

Every run gets -m (call count), a global -timeout with -timeout_error (so a hung
scenario fails instead of hanging), -trace_err and -trace_msg into the test's
artifacts directory, and -nostdin. The result carries the exit code and the
message/error logs, formatted for assertion messages."""
from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import netutil

SCENARIOS = Path(__file__).resolve().parent / "sipp"


@dataclass
class SippResult:
    name: str
    rc: int
    messages: Path
    errors: Path
    stdout: Path

    def _read(self, p: Path, limit: int = 12000) -> str:
        try:
            t = p.read_text(errors="replace")
        except FileNotFoundError:
            return "(none)"
        return t if len(t) <= limit else "...\n" + t[-limit:]

    def describe(self) -> str:
        return (f"SIPp {self.name} exit code {self.rc}\n"
                f"--- errors ({self.errors}) ---\n{self._read(self.errors)}\n"
                f"--- messages ({self.messages}) ---\n{self._read(self.messages)}\n"
                f"--- output ---\n{self._read(self.stdout, 3000)}")

    def received(self, method_or_code: str) -> list[str]:
        """The messages SIPp received whose start line begins with `method_or_code`
        (e.g. 'INVITE' or 'SIP/2.0 200')."""
        text = self.messages.read_text(errors="replace") if self.messages.exists() else ""
        out = []
        # blocks start with a line of dashes (and a timestamp); then
        # "UDP message received [N] bytes :", a blank line, the message
        for block in re.split(r"(?m)^-{20,}[^\n]*\n", text):
            head, _, body = block.partition("\n")
            if not re.match(r"(UDP|TCP|TLS|SCTP) message received", head):
                continue
            msg = body.lstrip("\r\n")
            if msg.startswith(method_or_code):
                out.append(msg)
        return out


class Sipp:
    """One SIPp run; `start()` + `wait()` for concurrent runs, `run()` for one shot."""

    def __init__(self, procs, artifacts: Path, scenario: str, *, local_port: int,
                 remote: tuple[str, int] | None = None, service: str | None = None,
                 auth: tuple[str, str] | None = None, calls: int = 1, timeout: int = 30,
                 transport: str = "u1", keys: dict[str, str] | None = None, extra: list[str] | None = None,
                 tag: str = ""):
        self.procs = procs
        self.name = f"{Path(scenario).stem}{('-' + tag) if tag else ''}"
        d = artifacts / "sipp"
        d.mkdir(exist_ok=True)
        self.messages = d / f"{self.name}.messages.log"
        self.errors = d / f"{self.name}.errors.log"
        self.stdout = d / f"{self.name}.out"
        for p in (self.messages, self.errors, self.stdout):
            p.unlink(missing_ok=True)
        self.local_port = local_port
        self.timeout = timeout
        args = ["sipp", "-sf", str(SCENARIOS / scenario), "-i", "127.0.0.1", "-p", str(local_port),
                "-t", transport, "-m", str(calls), "-l", str(calls),
                "-timeout", f"{timeout}s", "-timeout_error", "-nostdin",
                "-trace_err", "-error_file", str(self.errors),
                "-trace_msg", "-message_file", str(self.messages),
                # media port: SIPp binds it even without RTP; keep it off others' ports
                "-mp", str(netutil.free_port(span=4, tcp=False)), "-mi", "127.0.0.1"]
        if service:
            args += ["-s", service]
        if auth:
            args += ["-au", auth[0], "-ap", auth[1]]
        for k, v in (keys or {}).items():
            args += ["-key", k, str(v)]
        args += extra or []
        if remote:
            args.append(f"{remote[0]}:{remote[1]}")
        self.args = args
        self.proc = None

    def start(self) -> "Sipp":
        out = open(self.stdout, "wb")
        self.proc = self.procs.spawn(self.args, stdout=out, stderr=subprocess.STDOUT, cwd=self.stdout.parent)
        out.close()
        return self

    def wait_bound(self, timeout: float = 5.0) -> None:
        """Waits until SIPp's SIP socket is bound (so a peer may send to it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return
            if not netutil._bindable(self.local_port, udp=True, tcp=False):
                return
            time.sleep(0.05)

    def wait(self, abandon: bool = False) -> SippResult:
        """Waits for SIPp to finish. `abandon`: the other side already failed, so give
        this one 2 s and then stop it (SIGTERM to its PID) instead of sitting out its
        whole -timeout."""
        try:
            rc = self.proc.wait(timeout=2 if abandon else self.timeout + 15)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                rc = self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait()
            if abandon:
                with open(self.errors, "a") as f:
                    f.write("(stopped by the test: the other side had already failed)\n")
        return SippResult(self.name, rc, self.messages, self.errors, self.stdout)

    def run(self) -> SippResult:
        return self.start().wait()
