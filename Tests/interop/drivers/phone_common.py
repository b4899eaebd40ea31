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
