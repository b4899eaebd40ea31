"""SIP signalling against pbxd with SIPp (scenarios in sipp/): registration with
digest auth, calls between registered peers, CANCEL, unknown extensions, and a
retransmitted INVITE (raw UAC: SIPp cannot resend a request byte for byte)."""
from __future__ import annotations

import re
import socket
import time

import netutil
import siplib
from sipphelpers import both, register, run_caller, sdp_media, start_callee
from sipprunner import Sipp


# -- (a) REGISTER with digest ------------------------------------------------------------

def test_register_digest_udp(pbxd, procs, artifacts):
    port = netutil.free_port()
    r = register(pbxd, procs, artifacts, "1001", port, expires=300)
    assert r.rc == 0, "REGISTER 401 -> 200 failed\n" + r.describe()
    ok = r.received("SIP/2.0 200")
    assert len(ok) >= 1
    # RFC 3261 10.3 step 8: the 200 lists the current bindings, with their expiry
    contacts = [line for line in ok[-1].splitlines() if re.match(r"(?i)(contact|m)\s*:", line)]
    assert any(f"127.0.0.1:{port}" in c for c in contacts), \
        f"200 OK does not list the binding 127.0.0.1:{port}: {contacts}\n" + r.describe()
    assert any(re.search(r"expires=\d+", c) for c in contacts) or re.search(r"(?im)^Expires:\s*\d+", ok[-1]), \
        "200 OK carries no expiry for the binding\n" + r.describe()


def test_register_digest_tcp(pbxd, procs, artifacts):
    r = register(pbxd, procs, artifacts, "811", netutil.free_port(), transport="t1")
    assert r.rc == 0, "REGISTER over TCP 401 -> 200 failed\n" + r.describe()


# -- (b) wrong password --------------------------------------------------------------------

def test_register_wrong_password_refused(pbxd, procs, artifacts):
    r = register(pbxd, procs, artifacts, "1001", netutil.free_port(), password="not-the-secret",
                 scenario="register_wrong_password.xml")
    assert r.rc == 0, "REGISTER with a wrong password was not refused with 403/401\n" + r.describe()
    assert not r.received("SIP/2.0 200"), r.describe()


def test_register_unknown_user_refused(pbxd, procs, artifacts):
    r = register(pbxd, procs, artifacts, "7777", netutil.free_port(), password="whatever",
                 scenario="register_refused.xml")
    assert r.rc == 0, "REGISTER as a user pbxd does not know was not refused\n" + r.describe()
    assert not r.received("SIP/2.0 200"), r.describe()


# -- (c) unregister ----------------------------------------------------------------------

def test_unregister_removes_binding(pbxd, procs, artifacts):
    port = netutil.free_port()
    r = register(pbxd, procs, artifacts, "1001", port, scenario="register_unregister.xml")
    assert r.rc == 0, "REGISTER then REGISTER Expires: 0 did not end in 200 without our contact\n" + r.describe()

    # 1001 is gone: a call to it must fail, and nothing may arrive at the old contact
    old = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    old.bind(("127.0.0.1", port))
    old.settimeout(0.1)
    try:
        codes, _ = _raw_call_final(pbxd, "1002", "1001", timeout=25)
        stray = []
        try:
            while True:
                stray.append(old.recv(65535))
        except (socket.timeout, BlockingIOError):
            pass
    finally:
        old.close()
    assert not [s for s in stray if s.startswith(b"INVITE")], \
        f"pbxd sent an INVITE to the removed contact:\n{stray[0].decode(errors='replace')}"
    final = codes[-1] if codes else None
    assert final is not None and 400 <= final < 700 and final not in (401, 407), \
        f"call to the unregistered 1001: responses {codes}, want a final failure (404/480...)"


def test_register_query_and_wildcard_removal(pbxd, procs, artifacts):
    """REGISTER without Contact lists the bindings (RFC 3261 10.2.3); Contact: * with
    Expires: 0 removes them all (10.2.2)."""
    port = netutil.free_port()
    r = register(pbxd, procs, artifacts, "1001", port)
    assert r.rc == 0, r.describe()
    pw = pbxd.users["1001"]
    q = siplib.raw_register(pbxd.addr, "1001", pw, contact=None, expires=None)
    assert q and q[-1].code == 200, f"query: {[x.code for x in q]}"
    assert any(f"127.0.0.1:{port}" in c for c in siplib.contacts_of(q[-1])), \
        f"query does not list the binding 127.0.0.1:{port}: {siplib.contacts_of(q[-1])}"
    w = siplib.raw_register(pbxd.addr, "1001", pw, contact="*", expires=0)
    assert w and w[-1].code == 200, f"Contact: * / Expires: 0 got {[x.code for x in w]}"
    q2 = siplib.raw_register(pbxd.addr, "1001", pw, contact=None, expires=None)
    assert q2 and q2[-1].code == 200, f"query after removal: {[x.code for x in q2]}"
    assert not siplib.contacts_of(q2[-1]), f"bindings left after Contact: *: {siplib.contacts_of(q2[-1])}"


def test_registration_expires(pbxd, procs, artifacts):
    """A binding for 3 s (minexpiry=2 in the test config) is gone 2.5 s after it
    expires: the query no longer lists it and a call to 1001 does not go there."""
    port = netutil.free_port()
    r = register(pbxd, procs, artifacts, "1001", port, expires=3)
    assert r.rc == 0, r.describe()
    t_reg = time.monotonic()
    ok = r.received("SIP/2.0 200")[-1]
    granted = [int(x) for x in re.findall(r"(?i)expires=(\d+)", ok)] or \
        [int(x) for x in re.findall(r"(?im)^Expires:\s*(\d+)", ok)]
    assert granted and 0 < granted[0] <= 3, \
        f"asked for 3 s, granted {granted} (a registrar may shorten, never lengthen: RFC 3261 10.3)\n{ok}"
    time.sleep(max(0.0, granted[0] + 2.5 - (time.monotonic() - t_reg)))
    q = siplib.raw_register(pbxd.addr, "1001", pbxd.users["1001"], contact=None, expires=None)
    assert q and q[-1].code == 200, f"query: {[x.code for x in q]}"
    assert not siplib.contacts_of(q[-1]), f"binding still listed after it expired: {siplib.contacts_of(q[-1])}"
    old = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    old.bind(("127.0.0.1", port))
    old.settimeout(0.1)
    try:
        codes, _ = _raw_call_final(pbxd, "1002", "1001", timeout=25)
        stray = []
        try:
            while True:
                stray.append(old.recv(65535))
        except (socket.timeout, BlockingIOError):
            pass
    finally:
        old.close()
    assert not [x for x in stray if x.startswith(b"INVITE")], "pbxd called the expired contact"
    assert codes and 400 <= codes[-1] < 700 and codes[-1] not in (401, 407), \
        f"call to 1001 after its binding expired: responses {codes}"


# -- (d) INVITE needs credentials ------------------------------------------------------------

def test_invite_challenged_then_proceeds_with_credentials(pbxd, procs, artifacts):
    """No credentials -> 407; with them the call reaches 1002 (who is busy: 486 back)."""
    port = netutil.free_port()
    reg = register(pbxd, procs, artifacts, "1002", port)
    assert reg.rc == 0, reg.describe()
    callee = start_callee(pbxd, procs, artifacts, "1002", port, scenario="uas_busy.xml", timeout=25)
    uac = run_caller(pbxd, procs, artifacts, "1001", "1002", scenario="uac_expect_486.xml", timeout=20)
    uas = callee.wait(abandon=uac.rc != 0)
    assert uac.rc == 0, "caller: want 407, then 486 after authenticating\n" + both(uac, uas)
    assert uas.rc == 0, "callee 1002 did not get the INVITE / the ACK for its 486\n" + both(uas, uac)


def test_invite_wrong_credentials_refused(pbxd):
    with siplib.UdpSipClient(pbxd.addr) as c:
        uac = siplib.RawUac(c, "1001", "1002")
        c.send(uac.invite(b1 := siplib.new_branch(), 1))
        rs = c.collect(5)
        assert rs and rs[-1].code == 407, f"want 407 to an INVITE without credentials, got {[r.code for r in rs]}"
        chal = siplib.parse_challenge(rs[-1].header("Proxy-Authenticate") or "")
        c.send(uac.in_dialog("ACK", uac.uri, b1, 1, rs[-1].header("To")))
        auth = siplib.digest_authorization(chal, "INVITE", uac.uri, "1001", "wrong-password")
        c.send(uac.invite(b2 := siplib.new_branch(), 2, auth))
        rs2 = c.collect(5)
        codes = [r.code for r in rs2]
        assert rs2 and rs2[-1].code in (401, 403, 407), f"INVITE with a wrong password: responses {codes}"
        c.send(uac.in_dialog("ACK", uac.uri, b2, 2, rs2[-1].header("To")))


# -- (e) a call between registered peers ---------------------------------------------------

def test_call_1001_to_1002(pbxd, procs, artifacts):
    port = netutil.free_port()
    reg = register(pbxd, procs, artifacts, "1002", port)
    assert reg.rc == 0, "callee registration failed\n" + reg.describe()
    callee = start_callee(pbxd, procs, artifacts, "1002", port)
    uac = run_caller(pbxd, procs, artifacts, "1001", "1002", hold_ms=1500)
    uas = callee.wait(abandon=uac.rc != 0)
    assert uac.rc == 0, "caller: 407/INVITE/100/180/200/ACK/BYE/200 incomplete\n" + both(uac, uas)
    assert uas.rc == 0, "callee: INVITE/180/200/ACK/BYE/200 incomplete\n" + both(uas, uac)
    assert any(re.search(r"(?m)^CSeq:\s*2 INVITE", m) for m in uac.received("SIP/2.0 100")), \
        "no 100 Trying for the authenticated INVITE (RFC 3261 17.2.1: sent unless the TU answers within 200 ms)\n" + uac.describe()
    invite = uas.received("INVITE")[0]
    # the callee sees who calls (sip.conf callerid of 1001)
    from_hdr = re.search(r"(?im)^(?:From|f)\s*:(.*)$", invite).group(1)
    assert "1001" in from_hdr, f"the callee's INVITE does not show caller 1001: From:{from_hdr}"
    # pbxd relays the media: both legs' SDP must point at pbxd's RTP ports
    answer = uac.received("SIP/2.0 200")[0]
    for what, msg in (("INVITE to the callee", invite), ("200 OK to the caller", answer)):
        addr, mport = sdp_media(msg)
        assert addr == "127.0.0.1" and mport is not None and pbxd.rtp_start <= mport <= pbxd.rtp_end, \
            f"{what}: SDP c={addr} m=audio {mport}, want 127.0.0.1 and a port in " \
            f"{pbxd.rtp_start}-{pbxd.rtp_end} (rtp.conf)\n{msg}"


def test_callee_hangs_up(pbxd, procs, artifacts):
    """The BYE goes the other way: 1002 hangs up, pbxd must end 1001's leg."""
    port = netutil.free_port()
    reg = register(pbxd, procs, artifacts, "1002", port)
    assert reg.rc == 0, reg.describe()
    callee = start_callee(pbxd, procs, artifacts, "1002", port, scenario="uas_answer_hangup.xml", hold_ms=1500)
    uac = run_caller(pbxd, procs, artifacts, "1001", "1002", scenario="uac_call_remote_bye.xml")
    uas = callee.wait(abandon=uac.rc != 0)
    assert uas.rc == 0, "callee: its BYE was not answered with 200\n" + both(uas, uac)
    assert uac.rc == 0, "caller: no BYE from pbxd after the callee hung up\n" + both(uac, uas)


def test_hold_and_resume(pbxd, procs, artifacts):
    """re-INVITE a=sendonly (hold) then a=sendrecv (resume) from the caller, in the
    call: each answered 200 with a direction RFC 3264 allows, then BYE."""
    port = netutil.free_port()
    reg = register(pbxd, procs, artifacts, "1002", port)
    assert reg.rc == 0, reg.describe()
    callee = start_callee(pbxd, procs, artifacts, "1002", port, scenario="uas_answer_reinvite.xml")
    uac = run_caller(pbxd, procs, artifacts, "1001", "1002", scenario="uac_call_hold.xml")
    uas = callee.wait(abandon=uac.rc != 0)
    assert uac.rc == 0, "caller: hold/resume re-INVITEs not answered as RFC 3264 wants\n" + both(uac, uas)
    assert uas.rc == 0, "callee: call with hold/resume incomplete\n" + both(uas, uac)


def test_delayed_offer_invite(pbxd, procs, artifacts):
    """INVITE without SDP: pbxd offers in the 200 (its own RTP address) and takes the
    caller's answer from the ACK (RFC 3261 13.2.1); the callee leg works as usual."""
    port = netutil.free_port()
    reg = register(pbxd, procs, artifacts, "1002", port)
    assert reg.rc == 0, reg.describe()
    callee = start_callee(pbxd, procs, artifacts, "1002", port)
    uac = run_caller(pbxd, procs, artifacts, "1001", "1002", scenario="uac_call_delayed_offer.xml")
    uas = callee.wait(abandon=uac.rc != 0)
    assert uac.rc == 0, "delayed-offer caller: no offer with PCMU in the 200, or call incomplete\n" + both(uac, uas)
    assert uas.rc == 0, "callee: call incomplete\n" + both(uas, uac)
    addr, mport = sdp_media(uac.received("SIP/2.0 200")[0])
    assert addr == "127.0.0.1" and mport is not None and pbxd.rtp_start <= mport <= pbxd.rtp_end, \
        f"pbxd's offer in the 200 points at {addr}:{mport}, not at its RTP range"


def test_caller_offering_only_pcma(pbxd, procs, artifacts):
    """The caller offers PCMA alone: the call completes and its answer is PCMA (an
    answer may only hold codecs of the offer, RFC 3264 6.1)."""
    port = netutil.free_port()
    reg = register(pbxd, procs, artifacts, "1002", port)
    assert reg.rc == 0, reg.describe()
    callee = start_callee(pbxd, procs, artifacts, "1002", port, scenario="uas_answer_first_codec.xml")
    uac = run_caller(pbxd, procs, artifacts, "1001", "1002", scenario="uac_call_codecs.xml",
                     keys={"codecs": "8", "rtpmap": "a=rtpmap:8 PCMA/8000"})
    uas = callee.wait(abandon=uac.rc != 0)
    assert uac.rc == 0, "PCMA-only caller: call incomplete\n" + both(uac, uas)
    assert uas.rc == 0, "callee: call incomplete\n" + both(uas, uac)
    answer = uac.received("SIP/2.0 200")[0]
    m = re.search(r"(?m)^m=audio \d+ RTP/AVP ([\d ]+)", answer)
    assert m and m.group(1).split() and all(pt in ("8", "101") for pt in m.group(1).split()) \
        and m.group(1).split()[0] == "8", f"answer to a PCMA-only offer: m= {m.group(1) if m else None}\n{answer}"
    callee_pt = re.search(r"(?m)^m=audio \d+ RTP/AVP (\d+)", uas.received("INVITE")[0]).group(1)
    assert callee_pt == "8", (f"pbxd offered the callee payload type {callee_pt} first while the caller "
                              "can only do PCMA (8): without transcoding the legs would not hear each other\n"
                              + uas.received("INVITE")[0])


def test_caller_offering_no_allowed_codec_gets_488(pbxd, procs, artifacts):
    """The caller offers G.729 alone (sip.conf allows ulaw, alaw): 488 Not Acceptable Here."""
    port = netutil.free_port()
    reg = register(pbxd, procs, artifacts, "1002", port)
    assert reg.rc == 0, reg.describe()
    uac = run_caller(pbxd, procs, artifacts, "1001", "1002", scenario="uac_expect_488_codecs.xml",
                     keys={"codecs": "18", "rtpmap": "a=rtpmap:18 G729/8000"}, timeout=20)
    assert uac.rc == 0, "G.729-only offer: want 488\n" + uac.describe()


def test_call_from_tcp_to_udp(pbxd, procs, artifacts):
    """Caller on TCP, callee on UDP: pbxd answers on the caller's connection."""
    port = netutil.free_port()
    reg = register(pbxd, procs, artifacts, "1002", port)
    assert reg.rc == 0, reg.describe()
    callee = start_callee(pbxd, procs, artifacts, "1002", port)
    uac = run_caller(pbxd, procs, artifacts, "1001", "1002", transport="t1", tag="1001-tcp")
    uas = callee.wait(abandon=uac.rc != 0)
    assert uac.rc == 0, "TCP caller: call incomplete\n" + both(uac, uas)
    assert uas.rc == 0, "UDP callee: call incomplete\n" + both(uas, uac)


def test_concurrent_calls_and_port_reuse(pbxd, procs, artifacts):
    """Two rounds of 20 simultaneous calls 1001 -> 1002 (one registered SIPp callee
    answers them all). A round holds 80 of pbxd's 100 RTP ports (RTP + RTCP per leg),
    so the second round only gets through if the first round's ports came back."""
    port = netutil.free_port()
    reg = register(pbxd, procs, artifacts, "1002", port)
    assert reg.rc == 0, reg.describe()
    host, sip_port = pbxd.addr
    for rnd in (1, 2):
        callee = Sipp(procs, artifacts, "uas_answer.xml", local_port=port, service="1002", calls=20,
                      timeout=60, extra=["-d", "2000"], tag=f"1002-round{rnd}").start()
        callee.wait_bound()
        uac = Sipp(procs, artifacts, "uac_call.xml", local_port=netutil.free_port(), remote=pbxd.addr,
                   service="1002", auth=("1001", pbxd.users["1001"]), keys={"caller": "1001"}, calls=20,
                   timeout=60, extra=["-d", "2000", "-r", "20", "-rp", "1000", "-auth_uri",
                                      f"1002@{host}:{sip_port}"], tag=f"1001-round{rnd}").run()
        uas = callee.wait(abandon=uac.rc != 0)
        assert uac.rc == 0, f"round {rnd}: not all 20 calls completed for the caller\n" + both(uac, uas)
        assert uas.rc == 0, f"round {rnd}: not all 20 calls completed for the callee\n" + both(uas, uac)
        assert len(uas.received("INVITE")) == 20, f"round {rnd}: callee saw {len(uas.received('INVITE'))} INVITEs"
        time.sleep(0.5)


def test_call_to_tcp_callee(pbxd, procs, artifacts):
    """1002 registers over TCP (Contact ;transport=TCP): pbxd must reach it over TCP."""
    port = netutil.free_port()
    reg = register(pbxd, procs, artifacts, "1002", port, transport="t1")
    assert reg.rc == 0, reg.describe()
    callee = start_callee(pbxd, procs, artifacts, "1002", port, transport="t1", tag="1002-tcp")
    uac = run_caller(pbxd, procs, artifacts, "1001", "1002")
    uas = callee.wait(abandon=uac.rc != 0)
    assert uas.rc == 0, "TCP callee: the call did not reach it / incomplete\n" + both(uas, uac)
    assert uac.rc == 0, "UDP caller: call incomplete\n" + both(uac, uas)


# -- (f) CANCEL ----------------------------------------------------------------------------

def test_cancel_ringing_call(pbxd, procs, artifacts):
    port = netutil.free_port()
    reg = register(pbxd, procs, artifacts, "1002", port)
    assert reg.rc == 0, reg.describe()
    callee = start_callee(pbxd, procs, artifacts, "1002", port, scenario="uas_ring_no_answer.xml", timeout=25)
    uac = run_caller(pbxd, procs, artifacts, "1001", "1002", scenario="uac_cancel.xml", timeout=20)
    uas = callee.wait(abandon=uac.rc != 0)
    assert uac.rc == 0, "caller: 180, CANCEL, 487, ACK incomplete\n" + both(uac, uas)
    assert any(re.search(r"(?m)^CSeq:\s*2 CANCEL", m) for m in uac.received("SIP/2.0 200")), \
        "no 200 OK for the CANCEL\n" + uac.describe()
    assert uas.rc == 0, "callee: the CANCEL did not reach it (or no ACK for its 487)\n" + both(uas, uac)


def test_no_answer_times_out(pbxd, procs, artifacts):
    """7002 = Dial(SIP/1002,3): 1002 rings and never answers; after 3 s pbxd must CANCEL
    its leg and fail the caller's INVITE."""
    port = netutil.free_port()
    reg = register(pbxd, procs, artifacts, "1002", port)
    assert reg.rc == 0, reg.describe()
    callee = start_callee(pbxd, procs, artifacts, "1002", port, scenario="uas_ring_no_answer.xml", timeout=25)
    t0 = time.monotonic()
    uac = run_caller(pbxd, procs, artifacts, "1001", "7002", scenario="uac_no_answer.xml", timeout=20)
    took = time.monotonic() - t0
    uas = callee.wait(abandon=uac.rc != 0)
    assert uas.rc == 0, "callee: no CANCEL from pbxd after the Dial timeout\n" + both(uas, uac)
    assert uac.rc == 0, "caller: no final failure after the Dial timeout\n" + both(uac, uas)
    assert 2.5 <= took <= 12, f"the caller's call failed after {took:.1f} s, want about 3 s (Dial timeout)"


def test_unreachable_contact(pbxd, procs, artifacts):
    """1002's registered contact is gone (nothing listens there: ICMP port unreachable).
    A call to it through a 3 s Dial must fail cleanly, and pbxd's SIP socket must
    survive the ICMP errors: OPTIONS and a new registration still work afterwards."""
    port = netutil.free_port()
    reg = register(pbxd, procs, artifacts, "1002", port)
    assert reg.rc == 0, reg.describe()
    t0 = time.monotonic()
    codes, final = _raw_call_final(pbxd, "1001", "7002", timeout=20)
    took = time.monotonic() - t0
    assert codes and 400 <= codes[-1] < 700 and codes[-1] not in (401, 407), \
        f"call to a dead contact: responses {codes}, want a final failure"
    assert took < 12, f"the failure took {took:.1f} s (Dial timeout is 3 s)"
    assert siplib.sip_ping(pbxd.addr, timeout=2) is not None, "pbxd stopped answering OPTIONS after ICMP errors"
    again = register(pbxd, procs, artifacts, "811", netutil.free_port(), tag="811-after")
    assert again.rc == 0, "REGISTER after the ICMP errors failed\n" + again.describe()


# -- (g) unknown extension ---------------------------------------------------------------

def test_unknown_extension_404(pbxd, procs, artifacts):
    uac = run_caller(pbxd, procs, artifacts, "1001", "5555", scenario="uac_expect_404.xml", timeout=15)
    assert uac.rc == 0, "INVITE to 5555 (no dialplan match) must get 404\n" + uac.describe()


# -- (h) retransmitted INVITE ------------------------------------------------------------

def _raw_call_final(pbxd, caller: str, target: str, timeout: float):
    """Raw INVITE with auth; returns (all response codes, final response)."""
    with siplib.UdpSipClient(pbxd.addr) as c:
        uac = siplib.RawUac(c, caller, target)
        c.send(uac.invite(b1 := siplib.new_branch(), 1))
        rs = c.collect(5)
        assert rs and rs[-1].code == 407, f"want 407 first, got {[r.code for r in rs]}"
        c.send(uac.in_dialog("ACK", uac.uri, b1, 1, rs[-1].header("To")))
        chal = siplib.parse_challenge(rs[-1].header("Proxy-Authenticate"))
        auth = siplib.digest_authorization(chal, "INVITE", uac.uri, caller, pbxd.users[caller])
        c.send(uac.invite(b2 := siplib.new_branch(), 2, auth))
        rs2 = c.collect(timeout)
        if rs2 and rs2[-1].code >= 300:
            c.send(uac.in_dialog("ACK", uac.uri, b2, 2, rs2[-1].header("To")))
        return [r.code for r in rs2], (rs2[-1] if rs2 else None)


def test_retransmitted_invite_makes_one_call(pbxd, procs, artifacts):
    port = netutil.free_port()
    reg = register(pbxd, procs, artifacts, "1002", port)
    assert reg.rc == 0, reg.describe()
    callee = start_callee(pbxd, procs, artifacts, "1002", port, timeout=25)
    log = []
    with siplib.UdpSipClient(pbxd.addr) as c:
        uac = siplib.RawUac(c, "1001", "1002")
        c.send(uac.invite(b1 := siplib.new_branch(), 1))
        rs = c.collect(5)
        log += rs
        assert rs and rs[-1].code == 407, f"want 407, got {[r.code for r in rs]}"
        c.send(uac.in_dialog("ACK", uac.uri, b1, 1, rs[-1].header("To")))
        chal = siplib.parse_challenge(rs[-1].header("Proxy-Authenticate"))
        auth = siplib.digest_authorization(chal, "INVITE", uac.uri, "1001", pbxd.users["1001"])
        invite = uac.invite(siplib.new_branch(), 2, auth)
        c.send(invite)
        # wait for the first provisional (or T1 = 500 ms), then retransmit the same bytes
        first = c.collect(0.5, max_count=1)
        log += first
        c.send(invite)
        rs = list(first)
        if not any(r.code >= 200 for r in rs):
            rs += c.collect(15)
        log += rs[len(first):]
        codes = [r.code for r in log]
        final = rs[-1] if rs else None
        assert final is not None and final.code == 200, f"want 200 after the retransmitted INVITE; got {codes}"
        to = final.header("To")
        m = re.search(r"<([^>]+)>", final.header("Contact") or "")
        target = m.group(1) if m else uac.uri     # the remote target for in-dialog requests
        time.sleep(0.2)
        c.send(uac.in_dialog("ACK", target, siplib.new_branch(), 2, to))
        # any further 200 must be a retransmission of the same dialog (same To tag)
        more = c.collect(1.0, until_final=False)
        others = [r for r in more if r.code == 200 and r.header("To") != to and "INVITE" in (r.header("CSeq") or "")]
        assert not others, f"a second dialog was answered: {[r.header('To') for r in others]}"
        c.send(uac.in_dialog("BYE", target, siplib.new_branch(), 3, to))
        byers = [r for r in c.collect(5) if "BYE" in (r.header("CSeq") or "")]
        assert byers and byers[-1].code == 200, f"BYE not answered with 200: {[r.code for r in byers]}"
    uas = callee.wait()
    invites = uas.received("INVITE")
    call_ids = {re.search(r"(?im)^(?:Call-ID|i)\s*:\s*(\S+)", m).group(1) for m in invites}
    assert len(call_ids) == 1, f"callee saw {len(call_ids)} calls for one (retransmitted) INVITE\n" + uas.describe()
    assert uas.rc == 0, "callee scenario failed\n" + uas.describe()
