"""What the softphone drivers share: milestone output, logging, port picking and the common
command line (HOST PORT USER PASS AUDIO_IN [-c TARGET] [-t S] [-d DIGITS] [-r FILE] ...)."""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from netutil import _bindable  # noqa: E402  (the suite's one port check)


def say(line: str) -> None:
    """A milestone line on stdout (REGISTERED, CALL_ESTABLISHED, ...) for the test to wait for."""
    print(line, flush=True)


def logger(name: str):
    def log(msg: str) -> None:
        print(f"[{name} {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)
    return log


def pick_ports(low: int, high: int, span: int, tcp: bool) -> int:
    """A random start P in [low, high) with P..P+span-1 free (UDP, and TCP when `tcp`)."""
    starts = list(range(low, high - span, span))
    random.shuffle(starts)
    for p in starts:
        if all(_bindable(q, tcp=tcp) for q in range(p, p + span)):
            return p
    raise RuntimeError(f"no {span} free ports in {low}-{high}")


def argument_parser(description: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("user")
    ap.add_argument("password")
    ap.add_argument("audio", type=Path)
    ap.add_argument("-c", dest="target")
    ap.add_argument("-t", dest="secs", type=float)
    ap.add_argument("-d", dest="digits", default="")
    ap.add_argument("-r", dest="record", type=Path)
    ap.add_argument("-l", dest="sip_port", type=int)
    ap.add_argument("-p", dest="rtp_port", type=int)
    ap.add_argument("-w", dest="work", type=Path)
    ap.add_argument("-R", dest="reg_timeout", type=float, default=10)
    return ap


def open_command_fifo(work: Path) -> int:
    """A named pipe `work/stdin` for the UA's commands, opened read-write: opening does not
    block, and the write end stays open while the driver lives (EOF would make UAs quit/spin)."""
    import os
    fifo = work / "stdin"
    if fifo.exists():
        fifo.unlink()
    os.mkfifo(fifo)
    return os.open(fifo, os.O_RDWR)


def read_output(path: Path) -> str:
    """What the UA has written to its log so far ("" before it exists)."""
    try:
        return path.read_bytes().decode(errors="replace").replace("\r", "\n")
    except FileNotFoundError:
        return ""


def stop_process(proc, fifo_fd: int | None, quit_command: bytes, grace: float) -> None:
    """Asks the UA to quit (it un-registers first), then SIGTERM, then SIGKILL, by its PID;
    closes the command pipe."""
    import os
    import signal
    import subprocess
    if proc is not None and proc.poll() is None:
        try:
            if fifo_fd is not None:
                os.write(fifo_fd, quit_command)
        except OSError:
            pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    if fifo_fd is not None:
        os.close(fifo_fd)
