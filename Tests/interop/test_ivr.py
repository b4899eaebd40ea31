"""An IVR menu over a real call: a SIPp caller (digest auth) reaches
`Answer, Background(digits/1), WaitExten(5)`, receives the prompt as RTP from pbxd, presses `2`
from the test's own RTP socket — as RFC 4733 telephone-events, or, for a peer with
`dtmfmode=inband`, as a real dual tone in the µ-law audio (detected by spandsp) — and the call lands on
extension 2 (`Playback(beep)`, then pbxd hangs up: the caller gets a BYE). Where the call
landed is read from pbxd's debug log ("Executing [2@internal:1] Playback")."""
from __future__ import annotations

import re
import socket
import time

import pytest

from callhelpers import answered_call, running_pbxd, wait_log
from rtputil import dtmf_packets, inband_dtmf_packets, silence

IVR_DIALPLAN = """\
exten => 500,1,Answer()
 same => n,Background(digits/1)
 same => n,WaitExten(5)
exten => 2,1,Playback(beep)
 same => n,Hangup()
exten => t,1,Hangup()
exten => i,1,Hangup()
"""


@pytest.fixture(params=["rfc2833", "inband"])
def ivr_pbxd(request, procs, artifacts):
    """A pbxd with the menu above in [internal] and the repository's sounds/; the caller 1001
    has the `dtmfmode` of the test's parameter."""
    def remember_mode(inst):
        inst.dtmf_mode = request.param
    yield from running_pbxd(request, procs, artifacts, peers={"1001": {"dtmfmode": request.param}},
                            extensions=IVR_DIALPLAN, sounds=True, prepare=remember_mode)


def test_background_digit_routes_the_call(ivr_pbxd, procs, artifacts):
    pbxd, cap = ivr_pbxd
    uac, rtp, answer, pbx_port = answered_call(pbxd, cap, procs, artifacts, "500", socket_timeout=0.05)
    try:
        te = re.search(r"(?m)^a=rtpmap:(\d+) telephone-event/8000", answer)
        assert te, "pbxd's answer offers no telephone-event\n" + answer
        event_pt = int(te.group(1))

        # The prompt arrives from pbxd's port as G.711 (PT 0 or 8); meanwhile the caller
        # sends silence from the same socket, as a phone does (symmetric RTP).
        prompt = []
        deadline = time.monotonic() + 5
        seq = 1
        while len(prompt) < 10 and time.monotonic() < deadline:
            rtp.sendto(silence(seq, 0x1001), ("127.0.0.1", pbx_port))
            seq += 1
            try:
                pkt, src = rtp.recvfrom(2048)
            except socket.timeout:
                continue
            if src == ("127.0.0.1", pbx_port) and len(pkt) > 12 and (pkt[1] & 0x7F) in (0, 8):
                prompt.append(pkt)
        assert len(prompt) >= 10, f"only {len(prompt)} prompt packets from pbxd's port {pbx_port} within 5 s\n" \
            + pbxd.log_tail()
        assert any(p[12:] != p[12:13] * (len(p) - 12) for p in prompt), "the prompt packets carry only silence"

        mark = len(pbxd.log_text())
        packets = inband_dtmf_packets("2", seq, 0x1001) if pbxd.dtmf_mode == "inband" \
            else dtmf_packets(2, event_pt, 0x1001, seq, seq * 160)
        for pkt in packets:
            rtp.sendto(pkt, ("127.0.0.1", pbx_port))
            time.sleep(0.02)
        landed = wait_log(pbxd, r"Executing \[2@internal:1\] Playback", 5, after=mark)
        assert landed, "digit 2 did not route the call to extension 2\n" + pbxd.log_tail(40)
        # Nothing went to the timeout or invalid extensions.
        assert not re.search(r"Executing \[[ti]@internal:1\]", pbxd.log_text()), pbxd.log_tail(40)

        # The beep plays, then pbxd hangs up and the caller's scenario answers the BYE.
        while True:
            try:
                rtp.recvfrom(2048)
            except socket.timeout:
                break
            except OSError:
                break
            if uac.proc.poll() is not None:
                break
        result = uac.wait()
    finally:
        rtp.close()
    assert result.rc == 0, "the caller did not get pbxd's BYE after extension 2\n" + result.describe()
