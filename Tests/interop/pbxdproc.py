"""Start, probe and stop one pbxd process for a test, with its own config dir."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import netutil
from siplib import sip_ping

REPO = Path(__file__).resolve().parents[2]
REALM = "pbxd.test"
# peers every test config has; secrets deliberately differ from the user names
USERS = {
    "1001": "pw-1001-Xq7",
    "1002": "pw-1002-Mb4",
    "811": "pw-811-Kd2",
    "812": "pw-812-Zr9",
}


def pbxd_binary() -> Path:
    p = Path(os.environ.get("PBXD_BIN", REPO / ".build/debug/pbxd"))
    if not p.is_absolute():
        p = REPO / p
    return p


# After this many start failures in a row, later starts fail at once with the last
# error (a pbxd that cannot start would otherwise cost every test its start timeout).
MAX_START_FAILURES = 3
_start_failures: list[str] = []


class Pbxd:
    """One pbxd under test: config written once, may be started/stopped repeatedly
    on the same config and data dir (restart tests)."""

    def __init__(self, workdir: Path, log_level: str = "debug"):
        self.binary = pbxd_binary()
        self.workdir = workdir
        self.config_dir = workdir / "conf"
        self.data_dir = workdir / "data"
        self.log_level = log_level
        self.sip_port = netutil.free_port()
        self.rtp_start, self.rtp_end = netutil.free_range(100)
        self.users = dict(USERS)
        self.realm = REALM
        self.proc: subprocess.Popen | None = None
        self.runs = 0
        self.exit_codes: list[int] = []
        self.config_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.write_config()

    @property
    def addr(self) -> tuple[str, int]:
        return ("127.0.0.1", self.sip_port)

    @property
    def log_path(self) -> Path:
        return self.workdir / f"pbxd-run{self.runs}.log"

    # -- config -----------------------------------------------------------------
    def write_config(self) -> None:
        p = self.sip_port
        peers = "\n".join(f"[{u}](phone)\nsecret={pw}\ncallerid=\"User {u}\" <{u}>\n"
                          for u, pw in self.users.items())
        (self.config_dir / "sip.conf").write_text(f"""\
; written by Tests/interop (pbxdproc.py) for one test run
[general]
context=default
allowguest=no
alwaysauthreject=yes
realm={self.realm}
; short minimum so that tests can watch a binding expire
minexpiry=2
bindaddr=127.0.0.1
bindport={p}
udpbindaddr=127.0.0.1:{p}
tcpenable=yes
tcpbindaddr=127.0.0.1:{p}
transport=udp,tcp
disallow=all
allow=ulaw
allow=alaw
dtmfmode=rfc2833

[phone](!)
type=friend
host=dynamic
context=internal
directmedia=no
qualify=no
disallow=all
allow=ulaw
allow=alaw

{peers}""")
        (self.config_dir / "rtp.conf").write_text(
            f"[general]\nrtpstart={self.rtp_start}\nrtpend={self.rtp_end}\n")
        (self.config_dir / "extensions.conf").write_text("""\
[general]
static=yes
writeprotect=no

[default]

[internal]
exten => _1XXX,1,Dial(SIP/${EXTEN},20)
 same => n,Hangup()
exten => _8XX,1,Dial(SIP/${EXTEN},20)
 same => n,Hangup()
; 7XXX rings 1XXX for 3 s only (no-answer tests)
exten => _7XXX,1,Dial(SIP/1${EXTEN:1},3)
 same => n,Hangup()
""")
        (self.config_dir / "pbxd.conf").write_text(f"""\
[general]
datadir={self.data_dir}
""")

    # -- lifecycle --------------------------------------------------------------
    def start(self, timeout: float = 20.0) -> None:
        if len(_start_failures) >= MAX_START_FAILURES:
            raise RuntimeError(f"pbxd failed to start {len(_start_failures)} times in a row; not trying again. "
                               f"Last failure:\n{_start_failures[-1]}")
        try:
            self._start(timeout)
        except RuntimeError as e:
            _start_failures.append(str(e))
            raise
        _start_failures.clear()

    def _start(self, timeout: float) -> None:
        if not self.binary.exists():
            raise RuntimeError(f"pbxd binary {self.binary} does not exist (swift build first, or set PBXD_BIN)")
        assert self.proc is None or self.proc.poll() is not None, "pbxd already running"
        self.runs += 1
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(self.binary), "--config-dir", str(self.config_dir), "--data-dir", str(self.data_dir),
             "--log-level", self.log_level],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir,
            start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                self.exit_codes.append(rc)
                raise RuntimeError(f"pbxd exited with {rc} during startup:\n{self.log_tail()}")
            if sip_ping(self.addr, timeout=0.3) is not None:
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"pbxd did not answer OPTIONS on udp {self.sip_port} within {timeout}s:\n"
                           f"{self.log_tail()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> tuple[int | None, bool]:
        """SIGTERM our pbxd (by PID), wait; SIGKILL after `timeout`.
        Returns (exit code, killed)."""
        if self.proc is None:
            return None, False
        proc, self.proc = self.proc, None
        if proc.poll() is not None:
            self.exit_codes.append(proc.returncode)
            return proc.returncode, False
        killed = False
        try:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            killed = True
            proc.kill()
            proc.wait(timeout=5)
        self.exit_codes.append(proc.returncode)
        return proc.returncode, killed

    def close(self) -> None:
        """Stops pbxd if needed and gives its ports back to the picker."""
        self.stop()
        netutil.release(self.rtp_start, self.rtp_end)
        netutil.release(self.sip_port, self.sip_port)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])
