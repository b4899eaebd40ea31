"""Linphone (linphonec) through pbxd, against baresip both ways: Linphone's REGISTER
carries +sip.instance / Supported: outbound, gruu; its SDP and RTP differ from baresip's.
Each side sends a tone, both recordings are measured, the caller's DTMF digits must
arrive (the two clients use different telephone-event payload types), and the caller's
hangup must end both legs. Drivers: drivers/linphone_phone.py, drivers/baresip_phone.py."""
from __future__ import annotations

import pytest

from audio import assert_tone, make_tone
from phones import Phone

DIGITS = "159#"


@pytest.mark.parametrize("caller_client,callee_client", [("linphone", "baresip"), ("baresip", "linphone")])
def test_linphone_and_baresip_call(pbxd, procs, artifacts, caller_client, callee_client):
    users = pbxd.users
    host, port = "127.0.0.1", str(pbxd.sip_port)
    t1000 = make_tone(artifacts / "tone1000.wav", 1000)
    t440 = make_tone(artifacts / "tone440.wav", 440)
    callee = Phone(procs, artifacts, "callee", [host, port, "812", users["812"], str(t440), "-t", "45"],
                   client=callee_client)
    assert callee.wait_for("REGISTERED", 20), f"{callee_client} callee 812 did not register\n" + callee.describe()
    caller = Phone(procs, artifacts, "caller",
                   [host, port, "811", users["811"], str(t1000), "-c", "812", "-t", "8", "-d", DIGITS],
                   client=caller_client)
    rc_caller = caller.wait(60)
    rc_callee = callee.wait(25)
    report = caller.describe() + "\n" + callee.describe()
    assert caller.saw("REGISTERED"), f"{caller_client} caller 811 did not register\n" + report
    assert caller.saw("CALL_ESTABLISHED"), f"{caller_client} 811 -> {callee_client} 812 not established\n" + report
    assert callee.saw("CALL_ESTABLISHED"), f"{callee_client} 812 never answered\n" + report
    assert caller.saw("CALL_ENDED") and callee.saw("CALL_ENDED"), "the hangup did not end both legs\n" + report
    assert rc_caller == 0 and rc_callee == 0, report
    # telephone-event payload types differ (Linphone 96 with G.711 only, baresip 101):
    # the relay must map them per leg for the digits to arrive
    got = "".join(callee.values("DTMF_RECEIVED"))
    assert got == DIGITS, f"{callee_client} received DTMF {got!r} from {caller_client}, want {DIGITS!r}\n" + report
    assert_tone(callee.rx, 1000)
    assert_tone(caller.rx, 440)
