"""Shortcuts for the SIPp-driven tests: register a peer, run a callee, run a caller."""
from __future__ import annotations

import re
import time

import netutil
from sipprunner import Sipp, SippResult


def register(pbxd, procs, artifacts, user: str, port: int, *, expires: int = 300,
             password: str | None = None, scenario: str = "register.xml", transport: str = "u1",
             tag: str = "") -> SippResult:
    pw = pbxd.users[user] if password is None else password
    return Sipp(procs, artifacts, scenario, local_port=port, remote=pbxd.addr, service=user,
                auth=(user, pw), keys={"expires": str(expires)}, transport=transport, timeout=15,
                # no BYE when a REGISTER scenario aborts (SIPp's default for calls)
                extra=["-default_behaviors", "all,-bye"], tag=tag or user).run()


def start_callee(pbxd, procs, artifacts, user: str, port: int, scenario: str = "uas_answer.xml",
                 timeout: int = 40, tag: str = "", hold_ms: int = 1000, transport: str = "u1") -> Sipp:
    s = Sipp(procs, artifacts, scenario, local_port=port, service=user, timeout=timeout,
             extra=["-d", str(hold_ms)], transport=transport, tag=tag or user).start()
    if transport.startswith("t"):
        time.sleep(0.5)   # TCP listener: no UDP socket to watch for
    else:
        s.wait_bound()
    return s


def run_caller(pbxd, procs, artifacts, caller: str, target: str, scenario: str = "uac_call.xml",
               hold_ms: int = 1000, timeout: int = 40, tag: str = "", transport: str = "u1",
               keys: dict[str, str] | None = None) -> SippResult:
    host, port = pbxd.addr
    return Sipp(procs, artifacts, scenario, local_port=netutil.free_port(), remote=pbxd.addr,
                service=target, auth=(caller, pbxd.users[caller]), keys={"caller": caller, **(keys or {})},
                extra=["-d", str(hold_ms), "-auth_uri", f"{target}@{host}:{port}"],
                timeout=timeout, transport=transport, tag=tag or caller).run()


def sdp_media(msg: str) -> tuple[str | None, int | None]:
    """(connection address, audio port) of the SDP in a traced message."""
    c = re.search(r"^c=IN IP4 (\S+)", msg, re.M)
    m = re.search(r"^m=audio (\d+) ", msg, re.M)
    return (c.group(1) if c else None, int(m.group(1)) if m else None)


def both(*results) -> str:
    return "\n\n".join(r.describe() for r in results)
