"""Leaks and lost final responses found in review, each reproduced against a real pbxd:
rejected calls must give their RTP ports back, a BYE on an early dialog must still
end the INVITE with 487, and a 200 that crosses our CANCEL must not leave a dialog."""
from __future__ import annotations

import re
import socket

from siplib import RawUac, UdpSipClient, digest_authorization, new_branch, parse_challenge


def _header(msg: str, name: str) -> str | None:
    m = re.search(rf"^{name}:\s*(.*)$", msg, re.M | re.I)
    return m.group(1).strip() if m else None


def _recv(sock: socket.socket, timeout: float) -> str | None:
    sock.settimeout(timeout)
    try:
        data, _ = sock.recvfrom(65535)
        return data.decode(errors="replace")
    except socket.timeout:
        return None


def _authorized_invite(pbxd, caller: UdpSipClient, uac: RawUac, codec: tuple[int, str] | None = None) -> bytes:
    """Sends the unauthenticated INVITE, answers the 407, returns the authorized INVITE's bytes."""
    def invite(cseq: int, auth: str | None = None) -> bytes:
        raw = uac.invite(new_branch(), cseq, auth).decode()
        if codec:
            pt, name = codec
            head, body = raw.split("\r\n\r\n", 1)
            body = body.replace("RTP/AVP 0 101", f"RTP/AVP {pt} 101").replace("a=rtpmap:0 PCMU/8000", f"a=rtpmap:{pt} {name}/8000")
            head = re.sub(r"Content-Length: \d+", f"Content-Length: {len(body)}", head)
            raw = head + "\r\n\r\n" + body
        return raw.encode()
    caller.send(invite(1))
    challenge = [r for r in caller.collect(2.0) if r.code == 407]
    assert challenge, "no 407 for the first INVITE"
    auth = digest_authorization(parse_challenge(challenge[-1].header("Proxy-Authenticate")), "INVITE", uac.uri,
                                "1001", pbxd.users["1001"])
    return invite(2, auth)


def _register(pbxd, client: UdpSipClient, user: str) -> None:
    host, port = pbxd.addr
    ruri = f"sip:{host}:{port}"

    def reg(cseq: int, auth: str | None = None) -> bytes:
        lines = [f"REGISTER {ruri} SIP/2.0", f"Via: SIP/2.0/UDP 127.0.0.1:{client.port};branch={new_branch()};rport",
                 "Max-Forwards: 70", f"From: <sip:{user}@{host}:{port}>;tag=regtag", f"To: <sip:{user}@{host}:{port}>",
                 f"Call-ID: reg-{user}@robustness", f"CSeq: {cseq} REGISTER",
                 f"Contact: <sip:{user}@127.0.0.1:{client.port}>", "Expires: 300"]
        if auth:
            lines.append(f"Authorization: {auth}")
        return "\r\n".join(lines + ["Content-Length: 0", "", ""]).encode()

    client.send(reg(1))
    chal = parse_challenge(client.collect(2.0)[-1].header("WWW-Authenticate"))
    client.send(reg(2, digest_authorization(chal, "REGISTER", ruri, user, pbxd.users[user])))
    assert client.collect(2.0)[-1].code == 200, "callee registration failed"


def _response(req: str, code: int, reason: str, to_tag: str, contact_port: int, body: str = "") -> bytes:
    vias = re.findall(r"^Via:.*$", req, re.M | re.I)
    lines = [f"SIP/2.0 {code} {reason}", *vias, f"From: {_header(req, 'From')}",
             f"To: {_header(req, 'To')};tag={to_tag}", f"Call-ID: {_header(req, 'Call-ID')}",
             f"CSeq: {_header(req, 'CSeq')}", f"Contact: <sip:1002@127.0.0.1:{contact_port}>",
             *(["Content-Type: application/sdp"] if body else []), f"Content-Length: {len(body)}", "", body]
    return "\r\n".join(lines).encode()


def test_rejected_codecs_do_not_leak_rtp_ports(pbxd):
    """Each G.729-only INVITE gets 488; with pbxd's 100-port RTP range, leaked sessions
    would exhaust it well within 40 calls and a normal call would then get 503."""
    for i in range(40):
        with UdpSipClient(pbxd.addr) as caller:
            uac = RawUac(caller, "1001", "1002")
            caller.send(_authorized_invite(pbxd, caller, uac, codec=(18, "G729")))
            finals = [r for r in caller.collect(3.0) if r.code >= 200]
            assert finals and finals[-1].code == 488, f"G.729-only call {i}: {[r.code for r in finals]}"
    with UdpSipClient(pbxd.addr) as caller:
        uac = RawUac(caller, "1001", "1002")
        caller.send(_authorized_invite(pbxd, caller, uac))
        finals = [r for r in caller.collect(4.0) if r.code >= 200]
    assert finals and finals[-1].code not in (488, 503), \
        f"a PCMU call after 40 rejected ones got {finals[-1].code if finals else None}: RTP ports leaked\n{pbxd.log_tail(10)}"


def test_bye_on_early_dialog_ends_the_invite_with_487(pbxd):
    with UdpSipClient(pbxd.addr) as callee, UdpSipClient(pbxd.addr) as caller:
        _register(pbxd, callee, "1002")
        uac = RawUac(caller, "1001", "1002")
        caller.send(_authorized_invite(pbxd, caller, uac))
        invite = _recv(callee.sock, 3.0)
        assert invite and invite.startswith("INVITE"), f"callee got no INVITE: {invite!r}"
        callee.sock.sendto(_response(invite, 180, "Ringing", "calleetag", callee.port), pbxd.addr)
        ringing = [r for r in caller.collect(2.0, until_final=False, max_count=2) if r.code == 180]
        assert ringing, "the caller got no 180"
        caller.send(uac.in_dialog("BYE", uac.uri, new_branch(), 3, ringing[0].header("To")))
        seen = caller.collect(4.0, until_final=False)
        codes = [(r.code, r.header("CSeq")) for r in seen]
        assert any(c == 200 and "BYE" in (s or "") for c, s in codes), f"BYE not answered: {codes}"
        assert any(c == 487 and "INVITE" in (s or "") for c, s in codes), \
            f"the INVITE never got its final response after the BYE on the early dialog: {codes}"


def test_answer_crossing_cancel_leaves_no_dialog(pbxd):
    host, port = pbxd.addr
    with UdpSipClient(pbxd.addr) as callee, UdpSipClient(pbxd.addr) as caller:
        _register(pbxd, callee, "1002")
        uac = RawUac(caller, "1001", "1002")
        authorized = _authorized_invite(pbxd, caller, uac)
        branch = re.search(rb"branch=([^;\r]+)", authorized).group(1).decode()
        caller.send(authorized)
        invite = _recv(callee.sock, 3.0)
        assert invite and invite.startswith("INVITE")
        callee.sock.sendto(_response(invite, 180, "Ringing", "calleetag", callee.port), pbxd.addr)
        caller.collect(2.0, until_final=False, max_count=2)
        caller.send("\r\n".join([f"CANCEL {uac.uri} SIP/2.0",
                                 f"Via: SIP/2.0/UDP 127.0.0.1:{caller.port};branch={branch};rport",
                                 "Max-Forwards: 70", f"From: {uac.from_hdr}", f"To: {uac.to_hdr}",
                                 f"Call-ID: {uac.call_id}", "CSeq: 2 CANCEL", "Content-Length: 0", "", ""]).encode())
        cancel = _recv(callee.sock, 2.0)
        assert cancel and cancel.startswith("CANCEL"), f"callee got no CANCEL: {cancel!r}"
        sdp = ("v=0\r\no=c 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               "m=audio 40002 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
        callee.sock.sendto(_response(invite, 200, "OK", "calleetag", callee.port, sdp), pbxd.addr)
        got = [m for m in (_recv(callee.sock, 1.0) for _ in range(4)) if m]
        assert any(m.startswith("ACK") for m in got) and any(m.startswith("BYE") for m in got), \
            f"a 200 crossing the CANCEL must be ACKed then BYEd: {[m.splitlines()[0] for m in got]}"
        options = "\r\n".join([f"OPTIONS sip:x@{host}:{port} SIP/2.0",
                               f"Via: SIP/2.0/UDP 127.0.0.1:{callee.port};branch={new_branch()};rport",
                               "Max-Forwards: 70", f"From: {_header(invite, 'To')};tag=calleetag",
                               f"To: {_header(invite, 'From')}", f"Call-ID: {_header(invite, 'Call-ID')}",
                               "CSeq: 9 OPTIONS", "Content-Length: 0", "", ""]).encode()
        callee.sock.sendto(options, pbxd.addr)
        answer = None
        for _ in range(3):
            m = _recv(callee.sock, 1.0)
            if m and m.startswith("SIP/2.0") and "OPTIONS" in (_header(m, "CSeq") or ""):
                answer = m.splitlines()[0]
                break
        assert answer and " 481 " in answer, f"the dead dialog still answers in-dialog requests: {answer}"
