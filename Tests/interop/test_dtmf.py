"""DTMF in SIP INFO and across a bridge in the other leg's method (sip.conf `dtmfmode`).

(a) IVR: a SIPp caller reaches `Background(demo-congrats), WaitExten(5)` and presses `2` as a
    SIP INFO (application/dtmf-relay) during the 16 s prompt; it stops the prompt and the call lands on
    extension 2 (pbxd's debug log,
    "Executing [2@internal:1] Playback", as in test_ivr.py). The same caller first sends an
    unreadable dtmf-relay body (must get 400) and a text/plain INFO (must get 415).
(b) Bridged 1001 -> 1002 with 1002 `dtmfmode=info`: the caller presses `5` as RFC 4733 from the
    test's RTP socket; the callee (SIPp UAS) must get an INFO with `Signal=5`, and the
    telephone-events must not also reach its RTP socket.
(c) Bridged 1001 -> 1002 (rfc2833, or auto with telephone-event): the caller presses `5` as SIP INFO (Duration=160); the callee's
    RTP socket must get RFC 4733 packets for event 5 from pbxd's callee-side port, with the end
    bit and the INFO's duration (160 ms = 1280 samples).
(d) Both sides `info`: the caller's INFO reaches the callee as an INFO with Signal=5.
(e) Callee `dtmfmode=auto` answering without telephone-event: pbxd would need in-band tones (not
    generated yet) and says so in its log; the call goes on.
(f) Both peers rfc2833: the caller's RFC 4733 packets reach the callee byte for byte, no INFO."""
from __future__ import annotations

import re
import socket
import struct
import time

import pytest

import netutil
from callhelpers import PbxdSet, caller, configure, register, callee, sip_messages, wait_log, wait_sip
from capture import Capture
from pbxdproc import REPO, Pbxd
from sipphelpers import both, sdp_media
from rtputil import dtmf_packets

IVR_DIALPLAN = """\
exten => 500,1,Answer()
 same => n,Background(demo-congrats)
 same => n,WaitExten(5)
exten => 2,1,Playback(beep)
 same => n,Hangup()
exten => t,1,Hangup()
exten => i,1,Hangup()
"""


def _finish(s: PbxdSet, request) -> None:
    rep = getattr(request.node, "rep_call", None)
    problems = s.teardown(failed=rep is None or rep.failed)
    if problems:
        pytest.fail("\n".join(problems))


@pytest.fixture
def ivr_pbxd(request, procs, artifacts):
    """A pbxd with the menu above in [internal] and the repository's sounds/."""
    s = PbxdSet(procs, artifacts)
    inst = Pbxd(artifacts / "pbxd")
    configure(inst, extensions=IVR_DIALPLAN)
    conf = inst.config_dir / "pbxd.conf"
    conf.write_text(conf.read_text() + f"soundsdir={REPO / 'sounds'}\n")
    cap = Capture(procs, artifacts / "sip.pcap", f"port {inst.sip_port}", snaplen=0)
    s.items.append((inst, cap, False))
    inst.start()
    yield inst, cap
    _finish(s, request)


@pytest.fixture
def pbxds(request, procs, artifacts):
    s = PbxdSet(procs, artifacts)
    yield s
    _finish(s, request)


def _udp() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", netutil.free_port(tcp=False)))
    sock.setblocking(False)
    return sock


def _drain(sock: socket.socket, into: list) -> None:
    try:
        while True:
            into.append(sock.recvfrom(2048))
    except (BlockingIOError, OSError):
        pass


def _audio(seq: int, ssrc: int) -> bytes:
    return struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, seq * 160, ssrc) + b"\xff" * 160


def _bridged_call(pbxds, procs, artifacts, *, callee_peer: dict[str, str], uac_scenario: str, uas_scenario: str,
                  a: socket.socket, b: socket.socket, hold_ms: int):
    """Starts pbxd (1002 configured with `callee_peer`), a registered SIPp callee 1002 and a SIPp
    caller 1001 -> 1002 whose RTP are the test's sockets `a` and `b`. Returns the pbxd, the
    SIPp runs and pbxd's caller-side and callee-side RTP ports."""
    pbxd = pbxds.start(peers={"1002": callee_peer})
    port = netutil.free_port()
    reg = register(pbxd, procs, artifacts, "1002", port)
    assert reg.rc == 0, "1002 could not register\n" + reg.describe()
    uas = callee(pbxd, procs, artifacts, "1002", port, uas_scenario, keys={"rtp_port": str(b.getsockname()[1])})
    uac = caller(pbxd, procs, artifacts, "1001", "1002", uac_scenario, hold_ms=hold_ms,
                 keys={"rtp_port": str(a.getsockname()[1])}).start()
    cap = pbxds.capture_of(pbxd)
    to_callee = wait_sip(cap, lambda s, d, t: t.startswith("INVITE ") and s == pbxd.sip_port, 10)
    to_caller = wait_sip(cap, lambda s, d, t: t.startswith("SIP/2.0 200") and "m=audio" in t
                         and re.search(r"(?m)^CSeq:\s*2 INVITE", t) is not None, 10)
    assert to_callee and to_caller, "the call was not set up\n" + pbxd.log_tail()
    pbx_b = sdp_media(to_callee[2])[1]
    pbx_a = sdp_media(to_caller[2])[1]
    assert pbx_a and pbx_b, (to_callee[2], to_caller[2])
    assert wait_log(pbxd, r"bridged", 5), "the legs were not bridged\n" + pbxd.log_tail()
    return pbxd, uac, uas, pbx_a, pbx_b


# -- (a) -----------------------------------------------------------------------------------------

def test_info_digit_routes_ivr_and_bad_info_is_refused(ivr_pbxd, procs, artifacts):
    pbxd, cap = ivr_pbxd
    rtp = _udp()
    try:
        uac = caller(pbxd, procs, artifacts, "1001", "500", "dtmf_uac_info_wait_bye.xml", timeout=25,
                     keys={"rtp_port": str(rtp.getsockname()[1])}).start()
        landed = wait_log(pbxd, r"Executing \[2@internal:1\] Playback", 8)   # the prompt lasts 16 s
        assert landed, "the SIP INFO digit 2 did not route the call to extension 2\n" + pbxd.log_tail(40)
        assert not re.search(r"Executing \[[ti]@internal:1\]", pbxd.log_text()), pbxd.log_tail(40)
        # The INFO came 0.3 s into a 16 s prompt: it cut the prompt (Background itself routed, no WaitExten).
        assert "WaitExten" not in pbxd.log_text(), "the INFO digit did not interrupt Background\n" + pbxd.log_tail(40)
        got: list = []
        deadline = time.monotonic() + 20
        while uac.proc.poll() is None and time.monotonic() < deadline:
            _drain(rtp, got)
            time.sleep(0.02)
        result = uac.wait()
    finally:
        rtp.close()
    assert result.rc == 0, "the caller's INFOs were not answered 400/415/200, or no BYE came\n" + result.describe()
    replies = {}
    for sport, _, text in sip_messages(cap):
        m = re.search(r"(?m)^CSeq:\s*(\d+) INFO", text)
        if sport == pbxd.sip_port and m and text.startswith("SIP/2.0 "):
            replies[int(m.group(1))] = text
    assert replies.get(3, "").startswith("SIP/2.0 400"), replies
    assert replies.get(4, "").startswith("SIP/2.0 415") and re.search(r"(?mi)^Accept:.*application/dtmf-relay", replies[4]), \
        replies
    assert replies.get(5, "").startswith("SIP/2.0 200"), replies


# -- (b) -----------------------------------------------------------------------------------------

def test_rfc4733_from_caller_reaches_info_callee_as_info(pbxds, procs, artifacts):
    a, b = _udp(), _udp()
    got_b: list = []
    try:
        pbxd, uac, uas, pbx_a, pbx_b = _bridged_call(
            pbxds, procs, artifacts, callee_peer={"dtmfmode": "info"}, uac_scenario="call_uac_rtp.xml",
            uas_scenario="dtmf_uas_rtp_expect_info.xml", a=a, b=b, hold_ms=4000)
        seq = 100
        for _ in range(10):                      # audio first: latches pbxd's caller-side port
            a.sendto(_audio(seq, 0xA1), ("127.0.0.1", pbx_a))
            seq += 1
            _drain(b, got_b)
            time.sleep(0.02)
        for pkt in dtmf_packets(5, 101, 0xA1, seq, seq * 160):
            a.sendto(pkt, ("127.0.0.1", pbx_a))
            _drain(b, got_b)
            time.sleep(0.02)
        seq += 9
        for _ in range(10):
            a.sendto(_audio(seq, 0xA1), ("127.0.0.1", pbx_a))
            seq += 1
            _drain(b, got_b)
            time.sleep(0.02)
        cap = pbxds.capture_of(pbxd)
        info = wait_sip(cap, lambda s, d, t: s == pbxd.sip_port and t.startswith("INFO "), 5)
        uac_r, uas_r = uac.wait(), uas.wait()
        _drain(b, got_b)
    finally:
        a.close()
        b.close()
    assert info, "pbxd sent the callee no INFO for the caller's RFC 4733 digit\n" + pbxd.log_tail(40)
    assert re.search(r"(?mi)^Content-Type:\s*application/dtmf-relay", info[2]), info[2]
    assert re.search(r"(?m)^Signal=5\r?$", info[2]) and re.search(r"(?m)^Duration=\d+\r?$", info[2]), info[2]
    # The audio was relayed; the telephone-events were taken off the stream, not passed on too.
    pts = [pkt[1] & 0x7F for pkt, src in got_b if src == ("127.0.0.1", pbx_b) and len(pkt) >= 12]
    assert pts.count(0) >= 15, f"the caller's audio did not reach the callee (PTs {pts})"
    assert 101 not in pts, f"telephone-events reached the INFO callee's RTP too (PTs {pts})"
    assert uac_r.rc == 0 and uas_r.rc == 0, both(uac_r, uas_r)


# -- (c) -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["rfc2833", "auto"])
def test_info_from_caller_reaches_rfc2833_callee_as_rfc4733(pbxds, procs, artifacts, mode):
    """`auto` with telephone-event negotiated (the callee answers PT 101) sends RFC 4733 too."""
    a, b = _udp(), _udp()
    got_b: list = []
    try:
        pbxd, uac, uas, pbx_a, pbx_b = _bridged_call(
            pbxds, procs, artifacts, callee_peer={"dtmfmode": mode}, uac_scenario="dtmf_uac_rtp_send_info.xml",
            uas_scenario="call_uas_rtp.xml", a=a, b=b, hold_ms=2000)
        deadline = time.monotonic() + 15
        while uac.proc.poll() is None and time.monotonic() < deadline:
            _drain(b, got_b)
            time.sleep(0.01)
        uac_r, uas_r = uac.wait(), uas.wait()
        _drain(b, got_b)
    finally:
        a.close()
        b.close()
    assert uac_r.rc == 0 and uas_r.rc == 0, both(uac_r, uas_r)
    events = []
    for pkt, src in got_b:
        if src != ("127.0.0.1", pbx_b) or len(pkt) < 16 or (pkt[1] & 0x7F) != 101:
            continue
        marker = bool(pkt[1] & 0x80)
        seq, ts = struct.unpack("!HI", pkt[2:8])
        event, flags, duration = struct.unpack("!BBH", pkt[12:16])
        events.append((seq, ts, marker, event, bool(flags & 0x80), duration))
    assert events, f"no telephone-event (PT 101) reached the callee from pbxd's port {pbx_b}\n" + pbxd.log_tail(40)
    assert {e[3] for e in events} == {5}, events
    assert len({e[1] for e in events}) == 1, f"one event, one timestamp: {events}"
    ends = [e for e in events if e[4]]
    assert len(ends) >= 1 and all(e[5] == 1280 for e in ends), f"end packets with 160 ms (1280 samples): {events}"
    assert any(e[2] for e in events if not e[4]), f"the first packet has the marker bit: {events}"
    seqs = sorted(e[0] for e in events)
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), f"consecutive sequence numbers: {events}"


# -- (d) -----------------------------------------------------------------------------------------

def test_info_from_caller_reaches_info_callee_as_info(pbxds, procs, artifacts):
    a, b = _udp(), _udp()
    try:
        pbxd, uac, uas, _, _ = _bridged_call(
            pbxds, procs, artifacts, callee_peer={"dtmfmode": "info"}, uac_scenario="dtmf_uac_rtp_send_info.xml",
            uas_scenario="dtmf_uas_rtp_expect_info.xml", a=a, b=b, hold_ms=2000)
        uac_r, uas_r = uac.wait(), uas.wait()
    finally:
        a.close()
        b.close()
    assert uac_r.rc == 0 and uas_r.rc == 0, "the callee did not get INFO Signal=5\n" + both(uac_r, uas_r)
    info = wait_sip(pbxds.capture_of(pbxd), lambda s, d, t: s == pbxd.sip_port and t.startswith("INFO "), 1)
    assert info and re.search(r"(?m)^Duration=160\r?$", info[2]), info


# -- (e) -----------------------------------------------------------------------------------------

def test_auto_callee_without_telephone_event_logs_inband_not_available(pbxds, procs, artifacts):
    a, b = _udp(), _udp()
    try:
        pbxd, uac, uas, _, _ = _bridged_call(
            pbxds, procs, artifacts, callee_peer={"dtmfmode": "auto"}, uac_scenario="dtmf_uac_rtp_send_info.xml",
            uas_scenario="uas_answer_first_codec.xml", a=a, b=b, hold_ms=2000)
        logged = wait_log(pbxd, r"SIP/1002-.*digit=5 .*DTMF cannot be sent in-band yet; digit dropped", 8)
        uac_r, uas_r = uac.wait(), uas.wait()
    finally:
        a.close()
        b.close()
    assert logged, "no log line for the digit that needs in-band tones\n" + pbxd.log_tail(40)
    assert uac_r.rc == 0 and uas_r.rc == 0, both(uac_r, uas_r)


# -- (f) -----------------------------------------------------------------------------------------

def test_rfc4733_between_rfc2833_peers_is_relayed_unchanged(pbxds, procs, artifacts):
    """Both peers on RFC 4733: pbxd takes nothing off the stream; the caller's telephone-events
    reach the callee as sent (same event, timestamp, durations, end bits) and no INFO is made."""
    a, b = _udp(), _udp()
    got_b: list = []
    try:
        pbxd, uac, uas, pbx_a, pbx_b = _bridged_call(
            pbxds, procs, artifacts, callee_peer={"dtmfmode": "rfc2833"}, uac_scenario="call_uac_rtp.xml",
            uas_scenario="call_uas_rtp.xml", a=a, b=b, hold_ms=3000)
        sent = dtmf_packets(7, 101, 0xA1, 300, 48000)
        a.sendto(_audio(299, 0xA1), ("127.0.0.1", pbx_a))
        for pkt in sent:
            a.sendto(pkt, ("127.0.0.1", pbx_a))
            _drain(b, got_b)
            time.sleep(0.02)
        deadline = time.monotonic() + 1
        while time.monotonic() < deadline:
            _drain(b, got_b)
            time.sleep(0.02)
        uac_r, uas_r = uac.wait(), uas.wait()
    finally:
        a.close()
        b.close()
    events = [pkt for pkt, src in got_b if src == ("127.0.0.1", pbx_b) and len(pkt) >= 16 and (pkt[1] & 0x7F) == 101]
    assert events == sent, f"{len(events)} of {len(sent)} telephone-events relayed unchanged\n" + pbxd.log_tail(40)
    assert not any(t.startswith("INFO ") for _, _, t in sip_messages(pbxds.capture_of(pbxd)))
    assert uac_r.rc == 0 and uas_r.rc == 0, both(uac_r, uas_r)
