"""Calls through pbxd end to end with SIPp on both sides (sipp/call_*.xml): early media,
hold/resume re-INVITEs across the bridge, BYE from the callee, call-limit, busy and
no-answer, TCP, a callee behind NAT, SIGTERM during a call and while ringing, qualify,
and RTP relayed both ways. Asterisk's chan_sip is the reference for what pbxd should do."""
from __future__ import annotations

import re
import signal
import socket
import struct
import time

import pytest

import netutil
from callhelpers import PbxdSet, callee, caller, register, sip_messages, wait_log, wait_sip
from sipphelpers import both, sdp_media


@pytest.fixture
def pbxds(request, procs, artifacts):
    s = PbxdSet(procs, artifacts)
    yield s
    rep = getattr(request.node, "rep_call", None)
    problems = s.teardown(failed=rep is None or rep.failed)
    if problems:
        pytest.fail("\n".join(problems))


def registered_callee(pbxd, procs, artifacts, user, scenario, *, transport="u1", keys=None, port=None, **kw):
    port = port or netutil.free_port()
    reg = register(pbxd, procs, artifacts, user, port, transport=transport)
    assert reg.rc == 0, f"{user} could not register\n" + reg.describe()
    return callee(pbxd, procs, artifacts, user, port, scenario, transport=transport, keys=keys, **kw)


def assert_pbxd_media(pbxd, what: str, msg: str) -> int:
    """The SDP of `msg` points at pbxd (127.0.0.1, a port of its rtp.conf range); returns the port."""
    addr, port = sdp_media(msg)
    assert addr == "127.0.0.1" and port is not None and pbxd.rtp_start <= port <= pbxd.rtp_end, \
        f"{what}: SDP c={addr} m=audio {port}, want 127.0.0.1 and a port in " \
        f"{pbxd.rtp_start}-{pbxd.rtp_end} (pbxd relays the media)\n{msg}"
    return port


def direction(msg: str) -> str | None:
    m = re.search(r"^a=(sendrecv|sendonly|recvonly|inactive)\s*$", msg, re.M)
    return m.group(1) if m else None


# -- 1. early media ---------------------------------------------------------------------------

def test_early_media_183_relayed_with_pbxd_sdp(pbxds, procs, artifacts):
    pbxd = pbxds.start()
    uas = registered_callee(pbxd, procs, artifacts, "1002", "call_uas_early_media.xml")
    uac = caller(pbxd, procs, artifacts, "1001", "1002", "call_uac_early_media.xml", hold_ms=800).run()
    uas_r = uas.wait()
    assert uac.rc == 0, "caller: want 183 with SDP, then 200, ACK, BYE/200\n" + both(uac, uas_r)
    assert uas_r.rc == 0, "callee: 183/200/ACK/BYE incomplete\n" + both(uas_r, uac)
    callee_sdp_port = sdp_media(uas_r.received("INVITE")[0])[1]
    early = [m for m in uac.received("SIP/2.0 183") if "m=audio" in m]
    assert early, "the caller got no 183 with SDP\n" + uac.describe()
    port = assert_pbxd_media(pbxd, "183 to the caller", early[0])
    uas_port = int(re.search(r"-mp (\d+)", " ".join(uas.args)).group(1))
    assert port != uas_port, f"the 183 names the callee's own RTP port {uas_port}, not pbxd's"
    answer = uac.received("SIP/2.0 200")[0]
    assert_pbxd_media(pbxd, "200 OK to the caller", answer)
    assert callee_sdp_port is not None


# -- 2. hold / resume across the bridge ---------------------------------------------------------

def test_hold_resume_from_caller_crosses_bridge(pbxds, procs, artifacts):
    pbxd = pbxds.start()
    uas = registered_callee(pbxd, procs, artifacts, "1002", "call_uas_held.xml")
    uac = caller(pbxd, procs, artifacts, "1001", "1002", "call_uac_hold.xml").run()
    uas_r = uas.wait()
    assert uac.rc == 0, "caller: re-INVITE sendonly -> 200 recvonly, sendrecv -> 200 sendrecv, BYE\n" + both(uac, uas_r)
    assert uas_r.rc == 0, "callee: did not get the hold/resume re-INVITEs from pbxd\n" + both(uas_r, uac)
    invites = uas_r.received("INVITE")
    assert len(invites) == 3, f"callee got {len(invites)} INVITEs, want 3 (call, hold, resume)\n" + uas_r.describe()
    assert direction(invites[1]) == "sendonly", f"hold re-INVITE to the callee:\n{invites[1]}"
    assert direction(invites[2]) in ("sendrecv", None), f"resume re-INVITE to the callee:\n{invites[2]}"
    for what, msg in (("hold re-INVITE", invites[1]), ("resume re-INVITE", invites[2])):
        assert_pbxd_media(pbxd, what + " to the callee", msg)
    oks = [m for m in uac.received("SIP/2.0 200") if re.search(r"(?m)^CSeq:\s*[34] INVITE", m)]
    assert len(oks) == 2, uac.describe()
    assert direction(oks[0]) == "recvonly", f"200 for the hold re-INVITE:\n{oks[0]}"
    assert direction(oks[1]) in ("sendrecv", None), f"200 for the resume re-INVITE:\n{oks[1]}"
    for what, msg in (("200 for hold", oks[0]), ("200 for resume", oks[1])):
        assert_pbxd_media(pbxd, what, msg)


def test_hold_resume_from_callee_crosses_bridge(pbxds, procs, artifacts):
    pbxd = pbxds.start()
    uas = registered_callee(pbxd, procs, artifacts, "1002", "call_uas_hold.xml")
    uac = caller(pbxd, procs, artifacts, "1001", "1002", "call_uac_held.xml").run()
    uas_r = uas.wait()
    assert uas_r.rc == 0, "callee: re-INVITE sendonly -> 200 recvonly, sendrecv -> 200 sendrecv\n" + both(uas_r, uac)
    assert uac.rc == 0, "caller: did not get the hold/resume re-INVITEs from pbxd\n" + both(uac, uas_r)
    invites = uac.received("INVITE")
    assert len(invites) == 2, uac.describe()
    assert direction(invites[0]) == "sendonly", f"hold re-INVITE to the caller:\n{invites[0]}"
    assert_pbxd_media(pbxd, "hold re-INVITE to the caller", invites[0])
    oks = [m for m in uas_r.received("SIP/2.0 200") if re.search(r"(?m)^CSeq:\s*[12] INVITE", m)]
    assert len(oks) == 2 and direction(oks[0]) == "recvonly", uas_r.describe()
    assert_pbxd_media(pbxd, "200 for hold to the callee", oks[0])


# -- 3. BYE from the callee ----------------------------------------------------------------------

def test_bye_from_callee_ends_caller_leg(pbxds, procs, artifacts):
    pbxd = pbxds.start()
    uas = registered_callee(pbxd, procs, artifacts, "1002", "call_uas_hangs_up.xml", hold_ms=1000)
    uac = caller(pbxd, procs, artifacts, "1001", "1002", "call_uac_wait_bye.xml").run()
    uas_r = uas.wait()
    assert uas_r.rc == 0, "callee: its BYE was not answered 200\n" + both(uas_r, uac)
    assert uac.rc == 0, "caller: no BYE from pbxd after the callee hung up\n" + both(uac, uas_r)
    assert len(uac.received("BYE")) >= 1


# -- 4. call-limit ---------------------------------------------------------------------------------

def test_call_limit_second_call_busy(pbxds, procs, artifacts):
    pbxd = pbxds.start(peers={"1002": {"call-limit": "1"}})
    uas = registered_callee(pbxd, procs, artifacts, "1002", "uas_answer.xml", timeout=30)
    first = caller(pbxd, procs, artifacts, "1001", "1002", "uac_call.xml", hold_ms=5000, tag="first").start()
    assert wait_log(pbxd, r"bridged", 10), "the first call to 1002 was not bridged\n" + pbxd.log_tail()
    second = caller(pbxd, procs, artifacts, "811", "1002", "uac_expect_486.xml", timeout=15, tag="second").run()
    first_r = first.wait()
    uas_r = uas.wait()
    assert second.rc == 0, "second call to 1002 (call-limit=1, one call up) must get 486\n" + both(second, uas_r)
    assert first_r.rc == 0, "the first call was disturbed by the refused second one\n" + both(first_r, uas_r)
    assert uas_r.rc == 0, both(uas_r, first_r)
    assert len(uas_r.received("INVITE")) == 1, "the second call reached the callee despite call-limit=1\n" + uas_r.describe()


# -- 5. busy and no answer -------------------------------------------------------------------------

def test_busy_callee_gives_caller_486(pbxds, procs, artifacts):
    pbxd = pbxds.start()
    uas = registered_callee(pbxd, procs, artifacts, "1002", "uas_busy.xml", timeout=20)
    uac = caller(pbxd, procs, artifacts, "1001", "1002", "uac_expect_486.xml", timeout=15).run()
    uas_r = uas.wait()
    assert uac.rc == 0, "callee answered 486: the caller must get 486 (cause 17, USER_BUSY)\n" + both(uac, uas_r)
    assert uas_r.rc == 0, "callee: no ACK for its 486\n" + both(uas_r, uac)


def test_no_answer_dial_timeout_gives_480_and_cancels_callee(pbxds, procs, artifacts):
    pbxd = pbxds.start(extensions="exten => 7002,1,Dial(SIP/1002,3)\n same => n,Hangup()\n")
    uas = registered_callee(pbxd, procs, artifacts, "1002", "uas_ring_no_answer.xml", timeout=20)
    t0 = time.monotonic()
    uac = caller(pbxd, procs, artifacts, "1001", "7002", "call_uac_expect_480.xml", timeout=20).run()
    elapsed = time.monotonic() - t0
    uas_r = uas.wait()
    assert uas_r.rc == 0 and uas_r.received("CANCEL"), \
        "callee: no CANCEL when Dial(...,3) timed out\n" + both(uas_r, uac)
    assert uac.rc == 0, "caller: want 480 Temporarily Unavailable after the Dial timeout (NOANSWER)\n" + both(uac, uas_r)
    assert 2.5 <= elapsed <= 12, f"the call ended after {elapsed:.1f}s; Dial timeout was 3 s"


# -- 6. TCP ------------------------------------------------------------------------------------------

def test_tcp_register_and_call_both_legs(pbxds, procs, artifacts):
    pbxd = pbxds.start()
    uas = registered_callee(pbxd, procs, artifacts, "1002", "uas_answer.xml", transport="t1")
    uac_port = netutil.free_port()
    reg = register(pbxd, procs, artifacts, "1001", uac_port, transport="t1")
    assert reg.rc == 0, "REGISTER over TCP (caller)\n" + reg.describe()
    # the call from another port: the REGISTER's connection may still be in TIME_WAIT
    uac = caller(pbxd, procs, artifacts, "1001", "1002", "uac_call.xml", transport="t1", hold_ms=1000).run()
    uas_r = uas.wait()
    assert uac.rc == 0, "caller over TCP: call incomplete\n" + both(uac, uas_r)
    assert uas_r.rc == 0, "callee over TCP: call incomplete\n" + both(uas_r, uac)
    invite = uas_r.received("INVITE")[0]
    assert re.search(r"(?im)^Via:\s*SIP/2\.0/TCP ", invite), f"INVITE to the TCP callee has no TCP Via:\n{invite}"
    text = uas_r.messages.read_text(errors="replace")
    assert "TCP message received" in text and "UDP message received" not in text, uas_r.describe()


# -- 7. NAT: contact with the wrong port, rport -------------------------------------------------------

def test_nat_callee_reached_at_registration_source(pbxds, procs, artifacts):
    pbxd = pbxds.start()
    port = netutil.free_port()
    wrong = netutil.free_port()
    trap = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    trap.bind(("127.0.0.1", wrong))
    trap.settimeout(0.05)
    try:
        reg = register(pbxd, procs, artifacts, "1002", port, scenario="call_register_nat.xml",
                       keys={"contact_port": str(wrong)})
        assert reg.rc == 0, reg.describe()
        for code in ("401", "200"):
            resp = reg.received(f"SIP/2.0 {code}")[-1]
            via = next(line for line in resp.splitlines() if re.match(r"(?i)(via|v)\s*:", line))
            assert re.search(r";received=127\.0\.0\.1\b", via), f"{code} to REGISTER: Via lacks received=:\n{via}"
            assert re.search(rf";rport={port}\b", via), f"{code} to REGISTER: Via lacks rport={port} (RFC 3581):\n{via}"
        uas = callee(pbxd, procs, artifacts, "1002", port, "uas_answer.xml")
        uac = caller(pbxd, procs, artifacts, "1001", "1002", "uac_call.xml").run()
        uas_r = uas.wait()
        stray = []
        try:
            while True:
                stray.append(trap.recv(65535))
        except (socket.timeout, BlockingIOError):
            pass
    finally:
        trap.close()
    assert uas_r.received("INVITE"), \
        f"the INVITE did not reach the registration's source port {port}" + \
        (f"; it went to the Contact's port {wrong}:\n{stray[0].decode(errors='replace')}" if stray else "") + \
        "\n" + both(uas_r, uac)
    assert uac.rc == 0 and uas_r.rc == 0, both(uac, uas_r)
    assert not stray, f"pbxd sent {len(stray)} message(s) to the Contact's (private) port {wrong}"


# -- 8. SIGTERM during a call and while ringing ---------------------------------------------------------

def test_sigterm_during_call_byes_both_legs(pbxds, procs, artifacts):
    pbxd = pbxds.start(stopped_by_test=True)
    uas = registered_callee(pbxd, procs, artifacts, "1002", "uas_answer.xml", timeout=25)
    uac = caller(pbxd, procs, artifacts, "1001", "1002", "call_uac_wait_bye.xml", timeout=25).start()
    assert wait_log(pbxd, r"bridged", 10), "the call was not bridged\n" + pbxd.log_tail()
    time.sleep(0.3)
    t0 = time.monotonic()
    pbxd.proc.send_signal(signal.SIGTERM)
    try:
        rc = pbxd.proc.wait(timeout=10)
    except Exception:
        rc = None
    elapsed = time.monotonic() - t0
    uac_r, uas_r = uac.wait(), uas.wait()
    assert rc == 0, f"pbxd after SIGTERM with a call up: exit code {rc} after {elapsed:.1f}s, want 0 within 10 s\n" + pbxd.log_tail()
    assert uac_r.received("BYE"), "caller got no BYE when pbxd shut down\n" + both(uac_r, uas_r)
    assert uas_r.received("BYE"), "callee got no BYE when pbxd shut down\n" + both(uas_r, uac_r)
    assert uac_r.rc == 0 and uas_r.rc == 0, both(uac_r, uas_r)


def test_sigterm_while_ringing_cancels_callee_and_fails_caller(pbxds, procs, artifacts):
    pbxd = pbxds.start(stopped_by_test=True)
    uas = registered_callee(pbxd, procs, artifacts, "1002", "call_uas_ring_until_cancel.xml", timeout=25)
    uac = caller(pbxd, procs, artifacts, "1001", "1002", "call_uac_expect_failure.xml", timeout=25).start()
    cap = pbxds.capture_of(pbxd)
    assert wait_sip(cap, lambda s, d, t: t.startswith("SIP/2.0 180") and s == pbxd.sip_port, 10), \
        "the caller never got 180 Ringing"
    time.sleep(0.3)
    pbxd.proc.send_signal(signal.SIGTERM)
    try:
        rc = pbxd.proc.wait(timeout=10)
    except Exception:
        rc = None
    uac_r, uas_r = uac.wait(), uas.wait()
    finals = [m.split("\r\n", 1)[0] for _, _, m in sip_messages(cap)
              if re.match(r"SIP/2\.0 [3-6]\d\d", m) and re.search(r"(?m)^CSeq:\s*2 INVITE", m)]
    assert rc == 0, f"pbxd exit code after SIGTERM while ringing: {rc}, want 0 within 10 s\n" + pbxd.log_tail()
    assert uas_r.received("CANCEL"), "callee got no CANCEL when pbxd shut down while it rang\n" + both(uas_r, uac_r)
    assert uac_r.rc == 0, f"caller got no final error response to its ringing INVITE (saw {finals})\n" + both(uac_r, uas_r)
    print("final response to the ringing caller on shutdown:", finals)


# -- 9. qualify ------------------------------------------------------------------------------------------

def test_qualify_ok_then_unreachable(pbxds, procs, artifacts):
    pbxd = pbxds.start(peers={"812": {"qualify": "300", "qualifyfreq": "1"}})
    uas = registered_callee(pbxd, procs, artifacts, "812", "call_uas_options.xml", calls=500, timeout=30)
    ok = wait_log(pbxd, r"peer is now OK.*812|812.*peer is now OK", 6)
    assert ok, "no 'peer is now OK' for 812 within 6 s while it answers OPTIONS\n" + pbxd.log_tail()
    mark = len(pbxd.log_text())
    uas.proc.kill()
    uas.proc.wait(timeout=5)
    t0 = time.monotonic()
    down = wait_log(pbxd, r"peer is now UNREACHABLE.*812|812.*peer is now UNREACHABLE", 3.5, after=mark)
    assert down, f"no 'peer is now UNREACHABLE' for 812 within 3.5 s of its UAS stopping\n" + pbxd.log_tail()
    print(f"812 marked unreachable {time.monotonic() - t0:.1f}s after its UAS stopped")


# -- 10. RTP relayed both ways between two SIPp-signalled peers ----------------------------------------

def _rtp(seq: int, ssrc: int) -> bytes:
    payload = struct.pack("!I", seq) * 40        # 160 bytes, tells the packets apart
    return struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, seq * 160, ssrc) + payload


def test_rtp_relayed_both_ways(pbxds, procs, artifacts):
    pbxd = pbxds.start()
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)   # the caller's RTP
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)   # the callee's RTP
    try:
        a.bind(("127.0.0.1", netutil.free_port(tcp=False)))
        b.bind(("127.0.0.1", netutil.free_port(tcp=False)))
        a.setblocking(False)
        b.setblocking(False)
        uas = registered_callee(pbxd, procs, artifacts, "1002", "call_uas_rtp.xml",
                                keys={"rtp_port": str(b.getsockname()[1])})
        uac = caller(pbxd, procs, artifacts, "1001", "1002", "call_uac_rtp.xml", hold_ms=6000,
                     keys={"rtp_port": str(a.getsockname()[1])}).start()
        cap = pbxds.capture_of(pbxd)
        to_callee = wait_sip(cap, lambda s, d, t: t.startswith("INVITE ") and s == pbxd.sip_port, 10)
        to_caller = wait_sip(cap, lambda s, d, t: t.startswith("SIP/2.0 200") and "m=audio" in t
                             and re.search(r"(?m)^CSeq:\s*2 INVITE", t) is not None, 10)
        assert to_callee and to_caller, "the call was not set up\n" + pbxd.log_tail()
        pbx_b = assert_pbxd_media(pbxd, "INVITE to the callee", to_callee[2])   # pbxd's callee-side port
        pbx_a = assert_pbxd_media(pbxd, "200 OK to the caller", to_caller[2])   # pbxd's caller-side port
        assert wait_log(pbxd, r"bridged", 5)
        n = 100
        got_a, got_b = [], []

        def drain():
            for sock, got in ((a, got_a), (b, got_b)):
                try:
                    while True:
                        got.append(sock.recvfrom(2048))
                except BlockingIOError:
                    pass

        start = time.monotonic()
        for i in range(n):
            a.sendto(_rtp(1000 + i, 0xA1A1A1A1), ("127.0.0.1", pbx_a))
            b.sendto(_rtp(5000 + i, 0xB2B2B2B2), ("127.0.0.1", pbx_b))
            drain()
            time.sleep(max(0.0, start + (i + 1) * 0.02 - time.monotonic()))
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            drain()
            time.sleep(0.02)
        uac_r, uas_r = uac.wait(), uas.wait()
    finally:
        a.close()
        b.close()
    sent_a = {_rtp(1000 + i, 0)[12:] for i in range(n)}
    sent_b = {_rtp(5000 + i, 0)[12:] for i in range(n)}
    at_b = [(src, pkt[12:]) for pkt, src in got_b]
    at_a = [(src, pkt[12:]) for pkt, src in got_a]
    b_ok = {p for src, p in at_b if src == ("127.0.0.1", pbx_b) and p in sent_a}
    a_ok = {p for src, p in at_a if src == ("127.0.0.1", pbx_a) and p in sent_b}
    srcs_b = {src for src, _ in at_b}
    srcs_a = {src for src, _ in at_a}
    assert len(b_ok) >= 0.9 * n, \
        f"caller->callee: {len(b_ok)}/{n} of the caller's packets reached the callee from pbxd's port {pbx_b} " \
        f"(received {len(at_b)} from {srcs_b})"
    assert len(a_ok) >= 0.9 * n, \
        f"callee->caller: {len(a_ok)}/{n} of the callee's packets reached the caller from pbxd's port {pbx_a} " \
        f"(received {len(at_a)} from {srcs_a})"
    assert uac_r.rc == 0 and uas_r.rc == 0, both(uac_r, uas_r)
