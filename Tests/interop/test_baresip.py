"""Two real baresip UAs through pbxd: register 1001 and 1002, 1001 calls 1002
(auto-answer), each sends a tone (1000 Hz caller -> callee, 440 Hz back), both
record what they receive, the recordings are measured, the caller's DTMF digits
(RFC 4733) must reach the callee, and the caller's hangup must end the call on
both sides. Driver: drivers/baresip_phone.py."""
from __future__ import annotations

from audio import assert_tone, make_tone
from capture import Capture, describe_flows, udp_flows
from phones import Phone

DIGITS = "123#"


def _pair(procs, artifacts, host, port, callee_args, caller_args, call_target):
    t1000 = make_tone(artifacts / "tone1000.wav", 1000)
    t440 = make_tone(artifacts / "tone440.wav", 440)
    callee = Phone(procs, artifacts, "callee", [host, str(port), *callee_args(t440), "-t", "45"])
    first = "READY" if "--no-register" in callee_args(t440) else "REGISTERED"
    assert callee.wait_for(first, 15), "callee did not come up\n" + callee.describe()
    caller = Phone(procs, artifacts, "caller",
                   [host, str(port), *caller_args(t1000), "-c", call_target(), "-t", "6", "-d", DIGITS])
    rc_caller = caller.wait(60)
    rc_callee = callee.wait(20)
    report = caller.describe() + "\n" + callee.describe()
    return caller, callee, rc_caller, rc_callee, report


def test_baresip_driver_direct_call(procs, artifacts):
    """The driver and the measurement on their own (no pbxd: a direct IP call), so
    that a failure of the pbxd test below is pbxd's, not the harness's."""
    def callee_args(tone):
        return ["1002", "x", str(tone), "--no-register"]

    def caller_args(tone):
        return ["1001", "x", str(tone), "--no-register"]

    def target():
        out = (artifacts / "callee.out").read_text()
        return next(line.split()[1] for line in out.splitlines() if line.startswith("READY"))

    caller, callee, rc1, rc2, report = _pair(procs, artifacts, "127.0.0.1", 9, callee_args, caller_args, target)
    assert rc1 == 0 and rc2 == 0, report
    assert "".join(caller.values("DTMF_SENT")) == DIGITS, report
    assert "".join(callee.values("DTMF_RECEIVED")) == DIGITS, report
    assert_tone(callee.rx, 1000)
    assert_tone(caller.rx, 440)


def test_baresip_call_through_pbxd(pbxd, procs, artifacts):
    users = pbxd.users
    cap = Capture(procs, artifacts / "call.pcap",
                  f"udp port {pbxd.sip_port} or udp portrange {pbxd.rtp_start}-{pbxd.rtp_end}")

    def callee_args(tone):
        return ["1002", users["1002"], str(tone)]

    def caller_args(tone):
        return ["1001", users["1001"], str(tone)]

    try:
        caller, callee, rc_caller, rc_callee, report = _pair(
            procs, artifacts, "127.0.0.1", pbxd.sip_port, callee_args, caller_args, lambda: "1002")
    finally:
        cap.stop()
    flows = udp_flows(cap.path)
    report += f"\n--- UDP flows on lo (SIP {pbxd.sip_port}, RTP {pbxd.rtp_start}-{pbxd.rtp_end}) ---\n" \
        + describe_flows(flows)
    assert caller.saw("REGISTERED") and callee.saw("REGISTERED"), "registration failed\n" + report
    assert caller.saw("CALL_ESTABLISHED"), "1001 -> 1002 was not established\n" + report
    assert callee.saw("CALL_ESTABLISHED"), "1002 never answered a call\n" + report
    assert caller.saw("CALL_ENDED"), "the caller's hangup did not end its call\n" + report
    assert callee.saw("CALL_ENDED"), "the caller's hangup did not reach the callee (no BYE)\n" + report
    assert rc_caller == 0 and rc_callee == 0, report
    # the media goes through pbxd's RTP ports, both ways, never phone to phone
    relay = range(pbxd.rtp_start, pbxd.rtp_end + 1)
    for phone in (caller, callee):
        sent = sum(n for (s, d), n in flows.items() if s in phone.rtp_ports and d in relay)
        got = sum(n for (s, d), n in flows.items() if s in relay and d in phone.rtp_ports)
        assert sent >= 100 and got >= 100, \
            f"{phone.name}: {sent} RTP packets to pbxd, {got} from pbxd (want >= 100 each)\n" + report
    direct = sum(n for (s, d), n in flows.items()
                 if (s in caller.rtp_ports and d in callee.rtp_ports) or (s in callee.rtp_ports and d in caller.rtp_ports))
    assert direct == 0, f"{direct} RTP packets went phone to phone, not through pbxd\n" + report
    # DTMF (RFC 4733 telephone-events) relayed caller -> callee
    assert "".join(caller.values("DTMF_SENT")) == DIGITS, "the caller did not send its digits\n" + report
    got = "".join(callee.values("DTMF_RECEIVED"))
    assert got == DIGITS, f"callee received DTMF {got!r}, want {DIGITS!r}\n" + report
    # and the audio itself, both directions
    assert_tone(callee.rx, 1000)
    assert_tone(caller.rx, 440)


def test_two_baresip_calls_at_once(pbxd, procs, artifacts):
    """1001 -> 1002 and 811 -> 812 at the same time, four different tones: each phone
    must hear its own partner only (no crossed or mixed media in the relay)."""
    users = pbxd.users
    tones = {"1001": 1000, "1002": 440, "811": 1500, "812": 700}
    wav = {u: make_tone(artifacts / f"tone{f}.wav", f) for u, f in tones.items()}
    host, port = "127.0.0.1", str(pbxd.sip_port)
    callees = {u: Phone(procs, artifacts, f"callee{u}", [host, port, u, users[u], str(wav[u]), "-t", "45"])
               for u in ("1002", "812")}
    for u, ph in callees.items():
        assert ph.wait_for("REGISTERED", 15), f"callee {u} did not register\n" + ph.describe()
    callers = {u: Phone(procs, artifacts, f"caller{u}",
                        [host, port, u, users[u], str(wav[u]), "-c", target, "-t", "6"])
               for u, target in (("1001", "1002"), ("811", "812"))}
    rcs = {name: ph.wait(60) for name, ph in callers.items()}
    rcs.update({name: ph.wait(20) for name, ph in callees.items()})
    report = "\n".join(ph.describe() for ph in (*callers.values(), *callees.values()))
    assert all(rc == 0 for rc in rcs.values()), f"exit codes {rcs}\n" + report
    for listener, talker in (("1002", "1001"), ("1001", "1002"), ("812", "811"), ("811", "812")):
        ph = callers.get(listener) or callees[listener]
        assert_tone(ph.rx, tones[talker], min_purity=0.8)
