"""Helpers for test_calls.py: a pbxd whose sip.conf/extensions.conf a test may extend
before it starts, SIPp callers/callees with any transport and -key, and small waits.

Kept apart from conftest.py/pbxdproc.py/sipphelpers.py so those stay as they are: the
configuration hook here edits the files Pbxd wrote, before the first start."""
from __future__ import annotations

import re
import time
from pathlib import Path

import netutil
from capture import Capture, packets, sip_trace
from pbxdproc import Pbxd
from sipprunner import Sipp


# -- pbxd with extra configuration ------------------------------------------------------------

def configure(inst: Pbxd, *, peers: dict[str, dict[str, str]] | None = None, extensions: str = "") -> None:
    """Adds `key=value` lines to peer sections of sip.conf and lines to the [internal]
    context of extensions.conf (the last context of the file Pbxd writes)."""
    conf = inst.config_dir / "sip.conf"
    text = conf.read_text()
    for peer, settings in (peers or {}).items():
        head = f"[{peer}](phone)\n"
        assert head in text, f"peer {peer} not in sip.conf"
        lines = "".join(f"{k}={v}\n" for k, v in settings.items())
        text = text.replace(head, head + lines, 1)
    conf.write_text(text)
    if extensions:
        ext = inst.config_dir / "extensions.conf"
        ext.write_text(ext.read_text().rstrip("\n") + "\n" + extensions.strip("\n") + "\n")


class PbxdSet:
    """The pbxd instances of one test, each with a capture of its SIP port; stopped
    (SIGTERM, SIGKILL after 10 s) and their ports released at teardown."""

    def __init__(self, procs, artifacts: Path):
        self.procs = procs
        self.artifacts = artifacts
        self.items: list[tuple[Pbxd, Capture, bool]] = []

    def start(self, *, peers=None, extensions: str = "", stopped_by_test: bool = False) -> Pbxd:
        n = len(self.items)
        inst = Pbxd(self.artifacts / (f"pbxd{n}" if n else "pbxd"))
        configure(inst, peers=peers, extensions=extensions)
        cap = Capture(self.procs, self.artifacts / f"sip{n or ''}.pcap",
                      f"port {inst.sip_port}", snaplen=0)
        self.items.append((inst, cap, stopped_by_test))
        inst.start()
        return inst

    def capture_of(self, inst: Pbxd) -> Capture:
        return next(c for i, c, _ in self.items if i is inst)

    def teardown(self, failed: bool) -> list[str]:
        problems = []
        for inst, cap, stopped_by_test in self.items:
            was_alive = inst.alive()
            rc, killed = inst.stop()
            inst.close()
            cap.stop()
            if failed:
                print(f"--- SIP on pbxd's port {inst.sip_port} ({cap.path}) ---\n{sip_trace(cap.path)}")
                print(f"--- pbxd log tail ({inst.log_path}) ---\n{inst.log_tail(80)}")
            if not stopped_by_test and not was_alive:
                problems.append(f"pbxd was not running at the end of the test (exit code {rc}); "
                                f"log tail:\n{inst.log_tail(40)}")
            if killed:
                problems.append("pbxd did not exit within 10 s of SIGTERM (killed with SIGKILL)")
            if rc not in (None, 0, -15):
                problems.append(f"pbxd exited with code {rc}; log tail:\n{inst.log_tail(40)}")
        return problems


# -- SIPp peers ---------------------------------------------------------------------------------

def register(pbxd: Pbxd, procs, artifacts: Path, user: str, port: int, *, transport: str = "u1",
             scenario: str = "register.xml", keys: dict[str, str] | None = None, tag: str = ""):
    k = {"expires": "300"}
    k.update(keys or {})
    return Sipp(procs, artifacts, scenario, local_port=port, remote=pbxd.addr, service=user,
                auth=(user, pbxd.users[user]), keys=k, transport=transport, timeout=15,
                extra=["-default_behaviors", "all,-bye"], tag=tag or f"{user}-{transport}").run()


def callee(pbxd: Pbxd, procs, artifacts: Path, user: str, port: int, scenario: str, *,
           transport: str = "u1", keys: dict[str, str] | None = None, calls: int = 1,
           hold_ms: int | None = None, timeout: int = 30, tag: str = "") -> Sipp:
    """A SIPp UAS on `port` (already registered as `user` from that port); started and bound.
    SIPp's own BYE-on-abort is off: an aborted scenario must not end the call for pbxd."""
    extra = ["-default_behaviors", "all,-bye"]
    if hold_ms is not None:
        extra += ["-d", str(hold_ms)]
    s = Sipp(procs, artifacts, scenario, local_port=port, service=user, timeout=timeout,
             transport=transport, keys=keys, calls=calls, extra=extra, tag=tag or user).start()
    wait_bound(s, tcp=transport.startswith("t"))
    return s


def caller(pbxd: Pbxd, procs, artifacts: Path, user: str, target: str, scenario: str, *,
           transport: str = "u1", keys: dict[str, str] | None = None, hold_ms: int = 1000,
           timeout: int = 30, local_port: int | None = None, tag: str = "") -> Sipp:
    """A SIPp UAC calling `target` as `user` (not started: call .start() or .run())."""
    host, port = pbxd.addr
    k = {"caller": user}
    k.update(keys or {})
    return Sipp(procs, artifacts, scenario, local_port=local_port or netutil.free_port(), remote=pbxd.addr,
                service=target, auth=(user, pbxd.users[user]), keys=k, transport=transport,
                extra=["-d", str(hold_ms), "-auth_uri", f"{target}@{host}:{port}",
                       "-default_behaviors", "all,-bye"],
                timeout=timeout, tag=tag or user)


def wait_bound(s: Sipp, tcp: bool = False, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if s.proc.poll() is not None:
            return
        if not netutil._bindable(s.local_port, udp=not tcp, tcp=tcp):
            return
        time.sleep(0.05)


# -- waiting on pbxd ----------------------------------------------------------------------------

def wait_log(pbxd: Pbxd, pattern: str, timeout: float, after: int = 0) -> re.Match | None:
    """Waits until pbxd's log (from character `after` on) matches `pattern`."""
    deadline = time.monotonic() + timeout
    rx = re.compile(pattern, re.M)
    while True:
        m = rx.search(pbxd.log_text(), after)
        if m or time.monotonic() >= deadline:
            return m
        time.sleep(0.05)


def sip_messages(cap: Capture) -> list[tuple[int, int, str]]:
    """(source port, destination port, text) of every SIP message in a capture so far."""
    out = []
    for _, _, sport, dport, payload in packets(cap.path):
        if re.match(rb"^(SIP/2\.0 \d{3}|[A-Z]+ \S+ SIP/2\.0)", payload):
            out.append((sport, dport, payload.decode("utf-8", "replace")))
    return out


def wait_sip(cap: Capture, predicate, timeout: float) -> tuple[int, int, str] | None:
    """Waits for the first captured SIP message for which predicate(sport, dport, text) holds."""
    deadline = time.monotonic() + timeout
    while True:
        for m in sip_messages(cap):
            if predicate(*m):
                return m
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.05)


def answered_call(pbxd: Pbxd, cap: Capture, procs, artifacts: Path, exten: str, *,
                  scenario: str = "ivr_uac_rtp_wait_bye.xml", hold_ms: int = 1000, timeout: int = 25,
                  socket_timeout: float = 0.02, keys: dict[str, str] | None = None):
    """A SIPp caller (1001, digest auth) into `exten` whose RTP is a socket of the test's own
    (`keys`: more -key values for the scenario). Returns (uac, rtp socket, pbxd's 200 OK text,
    pbxd's RTP port) once the call is answered."""
    import socket

    from sipphelpers import sdp_media
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp.bind(("127.0.0.1", netutil.free_port(tcp=False)))
    rtp.settimeout(socket_timeout)
    uac = caller(pbxd, procs, artifacts, "1001", exten, scenario, timeout=timeout, hold_ms=hold_ms,
                 keys={"rtp_port": str(rtp.getsockname()[1]), **(keys or {})}).start()
    ok = wait_sip(cap, lambda s, d, t: s == pbxd.sip_port and t.startswith("SIP/2.0 200") and "m=audio" in t
                  and re.search(r"(?m)^CSeq:\s*2 INVITE", t) is not None, 10)
    if not ok:
        rtp.close()
        raise AssertionError(f"no 200 OK with SDP for the call to {exten}\n" + pbxd.log_tail())
    addr, port = sdp_media(ok[2])
    assert addr == "127.0.0.1" and port and pbxd.rtp_start <= port <= pbxd.rtp_end, ok[2]
    return uac, rtp, ok[2], port


def running_pbxd(request, procs, artifacts: Path, *, peers: dict[str, dict[str, str]] | None = None,
                 extensions: str = "", sounds: bool = False, prepare=None, stopped_by_test: bool = False):
    """The body of a pbxd fixture: configures one pbxd (peer settings, extra [internal] lines,
    the repository's sounds/ when `sounds`, then `prepare(inst)` for anything else), starts it
    (`stopped_by_test`: the test may stop it itself)
    with a capture of its SIP port, yields (inst, cap), and at teardown stops it and fails the
    test if it did not stop cleanly. Use as `yield from running_pbxd(...)`."""
    from pbxdproc import REPO
    s = PbxdSet(procs, artifacts)
    inst = Pbxd(artifacts / "pbxd")
    configure(inst, peers=peers, extensions=extensions)
    if sounds:
        conf = inst.config_dir / "pbxd.conf"
        conf.write_text(conf.read_text() + f"soundsdir={REPO / 'sounds'}\n")
    if prepare:
        prepare(inst)
    cap = Capture(procs, artifacts / "sip.pcap", f"port {inst.sip_port}", snaplen=0)
    s.items.append((inst, cap, stopped_by_test))
    inst.start()
    yield inst, cap
    rep = getattr(request.node, "rep_call", None)
    problems = s.teardown(failed=rep is None or rep.failed)
    if problems:
        import pytest
        pytest.fail("\n".join(problems))
