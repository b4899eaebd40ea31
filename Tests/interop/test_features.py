"""In-call DTMF features (features.conf; Dial()/Queue() options t and T): blind transfer by `#`.

The transferer's and the other party's RTP are sockets of the test, so the test presses keys
as RFC 4733 events and sees which telephone-events reach the other party.

(a) Queue(600,t): the agent 811 presses 5 (passed on to the caller), then `#` and 1002: the
    caller hears music on hold, then lands on 1002 (its SIPp UAS gets the INVITE), the agent is
    hung up, queue_log has BLINDTRANSFER, and neither `#` nor the extension's keys reached the
    caller. Again with `__TRANSFER_CONTEXT=xfer` on the caller: the agent's 77 is [xfer]'s.
(b) Queue(600) without t: the agent's `#` reaches the caller's RTP as a telephone-event and
    nothing is transferred.
(c) Dial(SIP/811,20,t): the called party transfers the caller to 1002 the same way.
(d) Queue(600,t), an extension that does not exist: the agent hears pbx-invalid and both are
    bridged again (the agent's next key reaches the caller).
(f) Dial(SIP/811,20,h): `*` is held back until the next key (`*5` arrives as * then 5) or the
    feature digit timeout (1 s); `*0` (disconnect) hangs the called party up.
(g) As (c) with 811 on `dtmfmode=info`: its `#` and 1002 arrive as SIP INFO.
(e) Dial(SIP/811,20,T): the caller transfers the called party (a leg Dial created, which starts its own dialplan run).
(h) Queue(600,t) and Dial(SIP/811,20,t), attended transfer: the agent 811 presses `*2` and 1002,
    consults 1002 (they hear each other), hangs up; then the caller and 1002 hear each other;
    queue_log has ATTENDEDTRANSFER (BRIDGE and the bridge's id) and no COMPLETE* line.
(i) As (h) with Dial, but the agent presses `*1` (atxferabort) while consulting: 1002 is hung
    up and the agent and the caller hear each other again."""
from __future__ import annotations

import re
import socket
import struct
import time

import pytest

import netutil
from pbxdproc import REPO
from callhelpers import callee, caller, configure, register, running_pbxd, wait_log, wait_sip
from sipphelpers import both, sdp_media
from rtputil import dtmf_packets

DIALPLAN = """\
exten => 610,1,Answer()
 same => n,Queue(600,t,,,20)
 same => n,Hangup()
exten => 620,1,Answer()
 same => n,Queue(600,,,,20)
 same => n,Hangup()
exten => 630,1,Dial(SIP/811,20,t)
 same => n,Hangup()
exten => 640,1,Dial(SIP/811,20,T)
 same => n,Hangup()
exten => 650,1,Dial(SIP/811,20,h)
 same => n,Hangup()
exten => 611,1,Answer()
 same => n,Set(__TRANSFER_CONTEXT=xfer)
 same => n,Queue(600,t,,,20)
 same => n,Hangup()

[xfer]
exten => 77,1,Dial(SIP/1002,20)
 same => n,Hangup()
"""

EVENT = {str(d): d for d in range(10)} | {"*": 10, "#": 11}
TELEPHONE_EVENT = 101


@pytest.fixture
def pbxd(request, procs, artifacts):
    def prepare(inst):
        configure(inst, extensions=DIALPLAN)
        (inst.config_dir / "queues.conf").write_text("[600]\nstrategy = ringall\ntimeout = 10\nmember => SIP/811\n")
        (inst.config_dir / "features.conf").write_text((REPO / "conf" / "features.conf").read_text())
        (inst.config_dir / "musiconhold.conf").write_text(f"[default]\nmode=files\ndirectory={REPO / 'sounds' / 'moh'}\n")
    yield from running_pbxd(request, procs, artifacts, sounds=True, prepare=prepare)


def _udp() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", netutil.free_port(tcp=False)))
    sock.setblocking(False)
    return sock


class Rig:
    """The caller's (socket `a`) and the called party's (socket `b`) RTP, and what reached each."""

    def __init__(self, a: socket.socket, b: socket.socket, pbx_a: int, pbx_b: int):
        self.a, self.b, self.pbx_a, self.pbx_b = a, b, pbx_a, pbx_b
        self.got = {"a": [], "b": []}
        self.seq = {"a": 1000, "b": 5000}

    def drain(self) -> None:
        for name, sock, port in (("a", self.a, self.pbx_a), ("b", self.b, self.pbx_b)):
            try:
                while True:
                    pkt, src = sock.recvfrom(2048)
                    if src == ("127.0.0.1", port):
                        self.got[name].append(pkt)
            except (BlockingIOError, OSError):
                pass

    def wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.drain()
            time.sleep(0.01)

    def press(self, side: str, keys: str, gap: float = 0.3) -> None:
        """Each key as one RFC 4733 event (9 packets, 20 ms apart) from `side`'s phone."""
        sock, port = (self.a, self.pbx_a) if side == "a" else (self.b, self.pbx_b)
        for key in keys:
            seq = self.seq[side]
            self.seq[side] += 20
            for pkt in dtmf_packets(EVENT[key], TELEPHONE_EVENT, 0xB0 if side == "b" else 0xA0, seq, seq * 160):
                sock.sendto(pkt, ("127.0.0.1", port))
                self.drain()
                time.sleep(0.02)
            self.wait(gap)

    def events(self, side: str) -> list[int]:
        """The telephone-event keys that reached `side`, one per event (by RTP timestamp)."""
        seen: dict[int, int] = {}
        for pkt in self.got[side]:
            if len(pkt) >= 16 and (pkt[1] & 0x7F) == TELEPHONE_EVENT:
                seen.setdefault(struct.unpack("!I", pkt[4:8])[0], pkt[12])
        return list(seen.values())

    def close(self) -> None:
        self.a.close()
        self.b.close()


def _registered(pbxd, procs, artifacts, user: str, scenario: str, keys=None, hold_ms: int | None = None, timeout: int = 30):
    """`user` registered from a free port, and a SIPp UAS with `scenario` started on it."""
    port = netutil.free_port(tcp=False)
    reg = register(pbxd, procs, artifacts, user, port)
    assert reg.rc == 0, f"{user} could not register\n" + reg.describe()
    return callee(pbxd, procs, artifacts, user, port, scenario, keys=keys, hold_ms=hold_ms, timeout=timeout)


def _bridged(pbxd, cap, procs, artifacts, exten: str, *, uac_scenario: str = "ivr_uac_rtp_wait_bye.xml", hold_ms: int = 1000):
    """1001 calls `exten`, which reaches 811 (a SIPp UAS); both RTP are the test's sockets.
    Returns the caller's and 811's SIPp runs and the RTP rig, once the legs are bridged."""
    a, b = _udp(), _udp()
    agent = _registered(pbxd, procs, artifacts, "811", "call_uas_rtp.xml", keys={"rtp_port": str(b.getsockname()[1])})
    uac = caller(pbxd, procs, artifacts, "1001", exten, uac_scenario, hold_ms=hold_ms, timeout=40,
                 keys={"rtp_port": str(a.getsockname()[1])}).start()
    to_agent = wait_sip(cap, lambda s, d, t: t.startswith("INVITE sip:811") and s == pbxd.sip_port, 10)
    to_caller = wait_sip(cap, lambda s, d, t: t.startswith("SIP/2.0 200") and "m=audio" in t
                         and re.search(r"(?m)^CSeq:\s*2 INVITE", t) is not None, 10)
    assert to_agent and to_caller, "the call was not set up\n" + pbxd.log_tail()
    assert wait_log(pbxd, r"bridged", 10), "the legs were not bridged\n" + pbxd.log_tail()
    rig = Rig(a, b, sdp_media(to_caller[2])[1], sdp_media(to_agent[2])[1])
    rig.wait(0.3)
    return uac, agent, rig


def _queue_log(pbxd) -> str:
    path = pbxd.data_dir / "queue_log"
    return path.read_text() if path.exists() else ""


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.mark.parametrize("exten,dialed,context", [("610", "1002", "internal"), ("611", "77", "xfer")])
def test_queue_agent_blind_transfers_the_caller(pbxd, procs, artifacts, exten, dialed, context):
    """(a) Queue option t: 5 is passed on; `#` 1002 sends the caller to 1002 (BLINDTRANSFER).
    With `__TRANSFER_CONTEXT=xfer` set on the caller, the agent's digits (77) are looked up in
    [xfer], whose 77 dials 1002."""
    inst, cap = pbxd
    target = _registered(inst, procs, artifacts, "1002", "uas_answer_hangup.xml", hold_ms=1500)
    uac, agent, rig = _bridged(inst, cap, procs, artifacts, exten)
    try:
        rig.press("b", "5")
        rig.wait(0.5)
        assert rig.events("a") == [5], f"the agent's 5 did not reach the caller once: {rig.events('a')}\n" + inst.log_tail(30)
        before = len(rig.got["a"])
        rig.press("b", "#", gap=1.2)
        rig.press("b", dialed)
        held = [p for p in rig.got["a"][before:] if (p[1] & 0x7F) == 0]
        assert len(held) > 50, f"the caller heard {len(held)} packets of music on hold while the agent dialed"
        assert wait_log(inst, rf"target={dialed}@{context} transferee=SIP/1001\S* .*\] blind transfer$", 10), inst.log_tail(40)
        target_r = target.wait()
        agent_r, uac_r = agent.wait(), uac.wait()
        rig.drain()
    finally:
        rig.close()
    assert target_r.rc == 0, "1002 did not get the transferred caller\n" + target_r.describe() + inst.log_tail(40)
    assert agent_r.rc == 0 and uac_r.rc == 0, both(agent_r, uac_r)
    assert rig.events("a") == [5], f"feature keys leaked to the caller: {rig.events('a')}"
    assert _wait_for(lambda: "|BLINDTRANSFER|" in _queue_log(inst), 5), _queue_log(inst)
    line = next(l for l in _queue_log(inst).splitlines() if "|BLINDTRANSFER|" in l)
    assert re.search(rf"\|600\|SIP/811\|BLINDTRANSFER\|{dialed}\|{context}\|\d+\|\d+\|1$", line), line


def test_without_t_the_hash_reaches_the_caller(pbxd, procs, artifacts):
    """(b) Queue without t: `#` is relayed to the caller as a telephone-event; no transfer."""
    inst, cap = pbxd
    uac, agent, rig = _bridged(inst, cap, procs, artifacts, "620", uac_scenario="call_uac_rtp.xml", hold_ms=4000)
    try:
        rig.press("b", "#1", gap=0.5)
        rig.wait(0.5)
        agent_r, uac_r = agent.wait(), uac.wait()
    finally:
        rig.close()
    assert rig.events("a") == [11, 1], f"the agent's keys did not reach the caller: {rig.events('a')}\n" + inst.log_tail(30)
    assert agent_r.rc == 0 and uac_r.rc == 0, both(agent_r, uac_r)
    assert "feature code dialed" not in inst.log_text()
    assert "BLINDTRANSFER" not in _queue_log(inst)


def test_dial_callee_blind_transfers_the_caller(pbxd, procs, artifacts):
    """(c) Dial option t: the called party 811 dials `#` 1002; the caller lands on 1002."""
    inst, cap = pbxd
    target = _registered(inst, procs, artifacts, "1002", "uas_answer_hangup.xml", hold_ms=1500)
    uac, agent, rig = _bridged(inst, cap, procs, artifacts, "630")
    try:
        rig.press("b", "#", gap=1.2)
        rig.press("b", "1002")
        target_r = target.wait()
        agent_r, uac_r = agent.wait(), uac.wait()
    finally:
        rig.close()
    assert target_r.rc == 0, "1002 did not get the transferred caller\n" + target_r.describe() + inst.log_tail(40)
    assert agent_r.rc == 0 and uac_r.rc == 0, both(agent_r, uac_r)
    assert re.search(r"Executing \[1002@internal:1\] Dial", inst.log_text()), inst.log_tail(40)
    assert rig.events("a") == [], f"feature keys leaked to the caller: {rig.events('a')}"


def test_invalid_extension_returns_both_to_the_bridge(pbxd, procs, artifacts):
    """(d) `#` then 99 (no such extension): pbx-invalid to the agent, then bridged again."""
    inst, cap = pbxd
    uac, agent, rig = _bridged(inst, cap, procs, artifacts, "610", uac_scenario="call_uac_rtp.xml", hold_ms=12000)
    try:
        rig.press("b", "#", gap=1.2)
        rig.press("b", "99")
        assert wait_log(inst, r"no such extension; back to the bridge", 8), inst.log_tail(40)
        assert wait_log(inst, r"back in the bridge", 8), inst.log_tail(40)
        rig.press("b", "7")
        rig.wait(0.5)
        agent_r, uac_r = agent.wait(), uac.wait()
    finally:
        rig.close()
    assert rig.events("a") == [7], f"after the failed transfer the agent's 7 should reach the caller: {rig.events('a')}"
    audio_to_agent = [p for p in rig.got["b"] if (p[1] & 0x7F) == 0]
    assert len(audio_to_agent) > 50, "the agent heard no pbx-transfer / pbx-invalid prompt"
    assert agent_r.rc == 0 and uac_r.rc == 0, both(agent_r, uac_r)
    assert "BLINDTRANSFER" not in _queue_log(inst)


def test_dial_caller_blind_transfers_the_callee(pbxd, procs, artifacts):
    """(e) Dial option T: the caller 1001 dials `#` 1002; 811 lands on 1002, 1001 is hung up."""
    inst, cap = pbxd
    target = _registered(inst, procs, artifacts, "1002", "uas_answer_hangup.xml", hold_ms=1500, timeout=20)
    uac, agent, rig = _bridged(inst, cap, procs, artifacts, "640")
    try:
        rig.press("a", "#", gap=1.2)
        rig.press("a", "1002")
        target_r = target.wait()
    finally:
        rig.close()
        if uac.proc.poll() is None:
            uac.proc.terminate()
        if agent.proc.poll() is None:
            agent.proc.terminate()
    assert target_r.rc == 0, "1002 did not get the transferred callee\n" + target_r.describe() + inst.log_tail(40)


def test_held_keys_go_on_in_order_and_disconnect_hangs_up(pbxd, procs, artifacts):
    """(f) Dial option h: `*` waits for a second key; `*5` reaches the caller as * then 5, a lone
    `*` after the feature digit timeout; `*0` hangs 811 up (and Dial the caller)."""
    inst, cap = pbxd
    uac, agent, rig = _bridged(inst, cap, procs, artifacts, "650")
    try:
        rig.press("b", "*", gap=0.4)
        assert rig.events("a") == [], "a key that starts *0 was not held back"
        rig.press("b", "5", gap=0.5)
        assert rig.events("a") == [10, 5], f"held keys not passed on in order: {rig.events('a')}"
        rig.press("b", "*", gap=0.5)
        assert rig.events("a") == [10, 5], "the lone * went on before the feature digit timeout"
        rig.wait(1.0)
        assert rig.events("a") == [10, 5, 10], f"the lone * was not released after 1 s: {rig.events('a')}"
        rig.press("b", "*0", gap=0.2)
        agent_r, uac_r = agent.wait(), uac.wait()
        rig.drain()
    finally:
        rig.close()
    assert agent_r.rc == 0 and uac_r.rc == 0, "*0 did not end the call\n" + both(agent_r, uac_r)
    assert rig.events("a") == [10, 5, 10], f"the disconnect code leaked: {rig.events('a')}"
    assert re.search(r"channel=SIP/811\S* feature=disconnect", inst.log_text()), inst.log_tail(30)


@pytest.fixture
def info_pbxd(request, procs, artifacts):
    def prepare(inst):
        configure(inst, peers={"811": {"dtmfmode": "info"}}, extensions=DIALPLAN)
    yield from running_pbxd(request, procs, artifacts, sounds=True, prepare=prepare)


def test_sip_info_keys_blind_transfer(info_pbxd, procs, artifacts):
    """(g) Dial option t, the called party on SIP INFO: `#` then 1002 as INFOs; the caller lands
    on 1002 and no key reaches the caller."""
    inst, cap = info_pbxd
    target = _registered(inst, procs, artifacts, "1002", "uas_answer_hangup.xml", hold_ms=1500)
    a, b = _udp(), _udp()
    agent = _registered(inst, procs, artifacts, "811", "features_uas_info_transfer.xml", keys={"rtp_port": str(b.getsockname()[1])})
    uac = caller(inst, procs, artifacts, "1001", "630", "ivr_uac_rtp_wait_bye.xml", timeout=40,
                 keys={"rtp_port": str(a.getsockname()[1])}).start()
    to_caller = wait_sip(cap, lambda s, d, t: t.startswith("SIP/2.0 200") and "m=audio" in t
                         and re.search(r"(?m)^CSeq:\s*2 INVITE", t) is not None, 10)
    assert to_caller, "the call was not set up\n" + inst.log_tail()
    rig = Rig(a, b, sdp_media(to_caller[2])[1], 0)
    try:
        target_r = target.wait()
        agent_r, uac_r = agent.wait(), uac.wait()
        rig.drain()
    finally:
        rig.close()
    assert target_r.rc == 0, "1002 did not get the transferred caller\n" + target_r.describe() + inst.log_tail(40)
    assert agent_r.rc == 0 and uac_r.rc == 0, both(agent_r, uac_r)
    assert re.search(r"channel=SIP/811\S* feature=blindxfer", inst.log_text()), inst.log_tail(40)
    assert re.search(r"target=1002@internal transferee=SIP/1001", inst.log_text()), inst.log_tail(40)
    assert rig.events("a") == [], f"feature keys leaked to the caller: {rig.events('a')}"


def _press_while_talking(party, keys: str, others: list, gap: float = 0.3) -> None:
    """Each key as one RFC 4733 event in `party`'s RTP stream, the other parties talking on."""
    from test_transfer import pump
    for key in keys:
        seq0 = party.seq + 1
        party.seq += 9
        for pkt in dtmf_packets(EVENT[key], TELEPHONE_EVENT, 0x5000 + party.freq, seq0, seq0 * 160):
            party.sock.sendto(pkt, party.peer)
            pump(others, 0.02)
        pump(others + [party], gap)


@pytest.mark.parametrize("exten", ["610", "630"])
def test_agent_attended_transfers_the_caller(pbxd, procs, artifacts, exten):
    """(h) `*2` 1002 by the called party (a queue agent, a Dial(...,t) callee): the caller holds
    while the agent and 1002 talk; the agent hangs up and the caller and 1002 are bridged."""
    from test_transfer import A_HZ, B_HZ, C_HZ, Party, dominant, ended, pump
    from audio import goertzel_power
    inst, cap = pbxd
    a, b, c_ = Party(A_HZ), Party(B_HZ), Party(C_HZ)
    try:
        port = netutil.free_port(tcp=False)
        assert register(inst, procs, artifacts, "1002", port).rc == 0
        target = callee(inst, procs, artifacts, "1002", port, "queue_uas_rtp_hangup.xml", hold_ms=7000, timeout=30,
                        keys={"rtp_port": str(c_.port)})
        agent = _registered(inst, procs, artifacts, "811", "queue_uas_rtp_hangup.xml", hold_ms=8000,
                            keys={"rtp_port": str(b.port)})
        uac = caller(inst, procs, artifacts, "1001", exten, "ivr_uac_rtp_wait_bye.xml", timeout=30,
                     keys={"rtp_port": str(a.port)}).start()
        to_agent = wait_sip(cap, lambda s, d, t: t.startswith("INVITE sip:811") and s == inst.sip_port, 10)
        to_caller = wait_sip(cap, lambda s, d, t: t.startswith("SIP/2.0 200") and "m=audio" in t
                             and re.search(r"(?m)^CSeq:\s*2 INVITE", t) is not None, 10)
        assert to_agent and to_caller, "the call was not set up\n" + inst.log_tail()
        assert wait_log(inst, r"bridged", 10), "the legs were not bridged\n" + inst.log_tail()
        a.peer, b.peer = ("127.0.0.1", sdp_media(to_caller[2])[1]), ("127.0.0.1", sdp_media(to_agent[2])[1])
        pump([a, b, c_], 0.5)
        _press_while_talking(b, "*", [a, c_])
        _press_while_talking(b, "2", [a, c_], gap=1.2)
        _press_while_talking(b, "1002", [a, c_])
        pump([a, b, c_], 6, until=lambda: any(t for t, _ in c_.received))
        consulted = next((t for t, _ in c_.received), None)
        assert consulted, "1002 was not consulted\n" + inst.log_tail(60)
        pump([a, b, c_], 8, until=lambda: "attended transfer completed" in inst.log_text())
        done = time.monotonic()
        assert "attended transfer completed" in inst.log_text(), inst.log_tail(60)
        pump([a, b, c_], 8, until=lambda: ended(target))
        results = {"1002": target.wait(abandon=True), "811": agent.wait(abandon=True), "1001": uac.wait(abandon=True)}
    finally:
        for p in (a, b, c_):
            p.sock.close()
    for name, r in results.items():
        assert r.rc == 0, f"{name}'s call did not end cleanly\n" + r.describe() + inst.log_tail(40)
    assert re.search(r"channel=SIP/811\S* feature=atxfer", inst.log_text()), inst.log_tail(40)
    if exten == "610":
        assert _wait_for(lambda: "|ATTENDEDTRANSFER|" in _queue_log(inst), 5), _queue_log(inst)
        line = next(l for l in _queue_log(inst).splitlines() if "|ATTENDEDTRANSFER|" in l)
        assert re.search(r"\|600\|SIP/811\|ATTENDEDTRANSFER\|BRIDGE\|[0-9a-f-]{36}\|\d+\|\d+\|1$", line), line
        assert "COMPLETECALLER" not in _queue_log(inst) and "COMPLETEAGENT" not in _queue_log(inst), _queue_log(inst)
    tones = [A_HZ, B_HZ, C_HZ]
    # Consulting: 811 and 1002 hear each other, and 1001 hears neither.
    assert dominant(c_.heard(consulted + 0.2, done - 0.2), tones) == B_HZ
    assert dominant(b.heard(consulted + 0.2, done - 0.2), tones) == C_HZ
    on_hold, after = a.heard(consulted + 0.2, consulted + 1.2), a.heard(done + 0.3, done + 1.3)
    leaked = max(goertzel_power(on_hold, 8000, f) for f in (B_HZ, C_HZ))
    assert leaked * 100 < goertzel_power(after, 8000, C_HZ), "the held caller heard the consultation"
    # Transferred: 1001 and 1002 hear each other.
    assert dominant(a.heard(done + 0.3, done + 2.0), tones) == C_HZ
    assert dominant(c_.heard(done + 0.3, done + 2.0), tones) == A_HZ


def test_atxferabort_returns_the_agent_to_the_caller(pbxd, procs, artifacts):
    """(i) `*2` 1002, 1002 answers, then `*1`: 1002 gets a BYE, the agent is back with the caller."""
    from test_transfer import A_HZ, B_HZ, C_HZ, Party, dominant, ended, pump
    inst, cap = pbxd
    a, b, c_ = Party(A_HZ), Party(B_HZ), Party(C_HZ)
    try:
        port = netutil.free_port(tcp=False)
        assert register(inst, procs, artifacts, "1002", port).rc == 0
        target = callee(inst, procs, artifacts, "1002", port, "call_uas_rtp.xml", timeout=30, keys={"rtp_port": str(c_.port)})
        agent = _registered(inst, procs, artifacts, "811", "queue_uas_rtp_hangup.xml", hold_ms=10000,
                            keys={"rtp_port": str(b.port)})
        uac = caller(inst, procs, artifacts, "1001", "630", "ivr_uac_rtp_wait_bye.xml", timeout=30,
                     keys={"rtp_port": str(a.port)}).start()
        to_agent = wait_sip(cap, lambda s, d, t: t.startswith("INVITE sip:811") and s == inst.sip_port, 10)
        to_caller = wait_sip(cap, lambda s, d, t: t.startswith("SIP/2.0 200") and "m=audio" in t
                             and re.search(r"(?m)^CSeq:\s*2 INVITE", t) is not None, 10)
        assert to_agent and to_caller, "the call was not set up\n" + inst.log_tail()
        assert wait_log(inst, r"bridged", 10), "the legs were not bridged\n" + inst.log_tail()
        a.peer, b.peer = ("127.0.0.1", sdp_media(to_caller[2])[1]), ("127.0.0.1", sdp_media(to_agent[2])[1])
        pump([a, b, c_], 0.5)
        _press_while_talking(b, "*", [a, c_])
        _press_while_talking(b, "2", [a, c_], gap=1.2)
        _press_while_talking(b, "1002", [a, c_])
        pump([a, b, c_], 6, until=lambda: any(t for t, _ in c_.received))
        assert any(c_.received), "1002 was not consulted\n" + inst.log_tail(60)
        pump([a, b, c_], 0.8)
        _press_while_talking(b, "*", [a, c_])
        _press_while_talking(b, "1", [a, c_])
        pump([a, b, c_], 5, until=lambda: "back with the transferee" in inst.log_text())
        back = time.monotonic()
        assert "back with the transferee" in inst.log_text(), inst.log_tail(60)
        target_r = target.wait(abandon=True)
        pump([a, b, c_], 8, until=lambda: ended(agent))
        results = {"811": agent.wait(abandon=True), "1001": uac.wait(abandon=True)}
    finally:
        for p in (a, b, c_):
            p.sock.close()
    assert target_r.rc == 0, "1002 was not hung up by atxferabort\n" + target_r.describe() + inst.log_tail(40)
    for name, r in results.items():
        assert r.rc == 0, f"{name}'s call did not end cleanly\n" + r.describe() + inst.log_tail(40)
    assert re.search(r"channel=SIP/811\S* feature=atxferabort", inst.log_text()), inst.log_tail(40)
    assert dominant(a.heard(back + 0.3, back + 1.8), [A_HZ, B_HZ, C_HZ]) == B_HZ
    assert dominant(b.heard(back + 0.3, back + 1.8), [A_HZ, B_HZ, C_HZ]) == A_HZ
