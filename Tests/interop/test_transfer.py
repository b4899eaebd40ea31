"""Transfers of legs that Dial created (issue 5), over real calls: 1001 (SIPp UAC) calls 1002
(SIPp UAS); 811 (SIPp UAS) is the transfer target. Every party's RTP is a socket of the test,
which sends a tone of its own for each (1001: 700 Hz, 1002: 1000 Hz, 811: 1300 Hz) and checks
which tones arrive where:
- AMI Redirect of the dialed leg (1002) to an extension that dials 811: 1001's Dial ends and
  1001 is hung up (Dial without `g`, as Asterisk), 811 rings, and 1002 and 811 hear each other;
- AMI Atxfer on 1002 to 811: 1001 hears music on hold while 1002 consults 811; 1002 hangs up and
  1001 and 811 hear each other (AttendedTransfer event); 811 hanging up then ends 1001's call;
- Atxfer to a target that is busy: 1002 is back with 1001 (they hear each other again)."""
from __future__ import annotations

import socket
import threading
import time

import pytest

import netutil
from audio import goertzel_power, make_tone
from callhelpers import answered_call, callee, register, running_pbxd
from rtputil import rtp_packet, ulaw_decode
from test_ami import Raw, write_manager_conf
from test_queue import tone

A_HZ, B_HZ, C_HZ, MOH_HZ = 700, 1000, 1300, 400


class Party:
    """One phone's RTP: a socket of the test that sends its tone every 20 ms to pbxd (once it
    knows pbxd's port) and records what arrives, with arrival times."""

    def __init__(self, freq: float, peer: tuple[str, int] | None = None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", netutil.free_port(tcp=False)))
        self.sock.setblocking(False)
        self.freq = freq
        self.peer = peer
        self.received: list[tuple[float, bytes]] = []
        self.seq = 0

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def send(self) -> None:
        if self.peer:
            self.seq += 1
            self.sock.sendto(rtp_packet(self.seq, 0x5000 + self.freq, tone(self.seq, self.freq)), self.peer)

    def drain(self) -> None:
        while True:
            try:
                packet, source = self.sock.recvfrom(2048)
            except BlockingIOError:
                return
            self.peer = self.peer or source
            if (packet[1] & 0x7F) == 0:
                self.received.append((time.monotonic(), packet[12:]))

    def heard(self, start: float, end: float) -> list[float]:
        return [float(ulaw_decode(b)) for t, p in self.received if start <= t < end for b in p]


def dominant(samples: list[float], freqs: list[float]) -> float:
    """The frequency among `freqs` with the most power in `samples` (at least 1 s of audio)."""
    assert len(samples) >= 8000, f"only {len(samples)} samples arrived"
    powers = {f: goertzel_power(samples, 8000, f) for f in freqs}
    best = max(powers, key=powers.get)
    others = [p for f, p in powers.items() if f != best]
    assert powers[best] > 20 * max(others), powers
    return best


class Events:
    """A logged-in AMI session whose events a thread collects."""

    def __init__(self, port: int):
        self.raw = Raw(port)
        self.raw.login()
        self.items: list[dict[str, str]] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while True:
                m = self.raw.message()
                if "Event" in m:
                    self.items.append(m)
        except (EOFError, OSError):
            return

    def first(self, name: str, **match) -> dict[str, str] | None:
        return next((e for e in list(self.items) if e["Event"] == name
                     and all(e.get(k) == v for k, v in match.items())), None)

    def close(self) -> None:
        self.raw.close()


def prepare(inst) -> None:
    write_manager_conf(inst)
    moh = inst.workdir / "moh"
    moh.mkdir(exist_ok=True)
    make_tone(moh / "hold.wav", MOH_HZ, seconds=20)
    (inst.config_dir / "musiconhold.conf").write_text(f"[default]\nmode=files\ndirectory={moh}\n")


@pytest.fixture
def xfer_pbxd(request, procs, artifacts):
    yield from running_pbxd(request, procs, artifacts, prepare=prepare)


def uas(pbxd, procs, artifacts, user: str, party: Party, scenario: str, hold_ms: int | None = None):
    port = netutil.free_port(tcp=False)
    reg = register(pbxd, procs, artifacts, user, port)
    assert reg.rc == 0, reg.describe()
    return callee(pbxd, procs, artifacts, user, port, scenario, hold_ms=hold_ms, timeout=40,
                  keys={"rtp_port": str(party.port)})


def channel_names(c: Raw, want: set[str], timeout: float = 10) -> dict[str, str]:
    """The live channels by peer (`SIP/1001`) once those in `want` are all up and bridged."""
    deadline = time.monotonic() + timeout
    names: dict[str, str] = {}
    while time.monotonic() < deadline:
        c.action("CoreShowChannels")
        c.response()
        names = {}
        while (m := c.message()).get("Event") != "CoreShowChannelsComplete":
            if m.get("BridgeId") and m.get("ChannelStateDesc") == "Up":
                names[m["Channel"].split("-")[0]] = m["Channel"]
        if want <= set(names):
            return names
        time.sleep(0.1)
    raise AssertionError(f"channels {want} not bridged: {names}")


def ended(sipp) -> bool:
    return sipp.proc.poll() is not None


def pump(parties: list[Party], seconds: float, until=None) -> None:
    """Sends and receives 20 ms frames for `seconds` (or until `until()` is true)."""
    start = time.monotonic()
    k = 0
    while time.monotonic() - start < seconds and not (until and until()):
        for p in parties:
            p.send()
        k += 1
        while time.monotonic() < start + k * 0.02:
            for p in parties:
                p.drain()
            time.sleep(0.002)


@pytest.fixture
def parties():
    made: list[Party] = []
    yield made
    for p in made:
        p.sock.close()


def caller_party(pbxd, cap, procs, artifacts, parties: list[Party]):
    """1001 calling 1002 with the test's socket as its RTP; returns (uac, party)."""
    from callhelpers import caller, wait_sip
    from sipphelpers import sdp_media
    a = Party(A_HZ)
    parties.append(a)
    uac = caller(pbxd, procs, artifacts, "1001", "1002", "ivr_uac_rtp_wait_bye.xml", timeout=40,
                 keys={"rtp_port": str(a.port)}).start()
    ok = wait_sip(cap, lambda s, d, t: s == pbxd.sip_port and t.startswith("SIP/2.0 200") and "m=audio" in t
                  and "CSeq: 2 INVITE" in t, 15)
    assert ok, "1001's call was not answered\n" + pbxd.log_tail()
    a.peer = ("127.0.0.1", sdp_media(ok[2])[1])
    return uac, a


def test_redirect_of_the_dialed_leg_dials_out_from_it(xfer_pbxd, procs, artifacts, parties):
    pbxd, cap = xfer_pbxd
    b, c_ = Party(B_HZ), Party(C_HZ)
    parties += [b, c_]
    uas_b = uas(pbxd, procs, artifacts, "1002", b, "call_uas_rtp.xml")
    uas_c = uas(pbxd, procs, artifacts, "811", c_, "queue_uas_rtp_hangup.xml", hold_ms=3000)
    uac, a = caller_party(pbxd, cap, procs, artifacts, parties)
    ami = Raw(pbxd.ami_port)
    ami.login(events="off")
    names = channel_names(ami, {"SIP/1001", "SIP/1002"})
    pump([a, b, c_], 1.0)
    ami.action("Redirect", Channel=names["SIP/1002"], Exten="811", Context="internal", Priority="1")
    assert ami.response()["Message"] == "Redirect successful"
    redirected = time.monotonic()
    # 1001's Dial ended as for a hangup of its party: 1001 gets pbxd's BYE.
    pump([a, b, c_], 5, until=lambda: ended(uac))
    ua = uac.wait(abandon=True)
    assert ua.rc == 0, "1001 was not hung up after its dialed party left\n" + ua.describe()
    pump([a, b, c_], 8, until=lambda: ended(uas_c))
    uc, ub = uas_c.wait(), uas_b.wait()
    assert uc.rc == 0, "811 did not get and end the call from the redirected leg\n" + uc.describe()
    assert ub.rc == 0, "1002 was not hung up when 811 hung up\n" + ub.describe()
    answered = next(t for t, _ in c_.received)
    assert answered > redirected
    # 1002 and 811 heard each other through the link across relay sessions.
    assert dominant(c_.heard(answered + 0.3, answered + 1.8), [A_HZ, B_HZ, C_HZ]) == B_HZ
    assert dominant(b.heard(answered + 0.3, answered + 1.8), [A_HZ, B_HZ, C_HZ, MOH_HZ]) == C_HZ
    ami.action("Redirect", Channel=names["SIP/1002"], Exten="811", Context="internal", Priority="1")
    assert ami.response()["Response"] == "Error"
    ami.close()


def test_atxfer_bridges_transferee_and_target_when_the_transferer_hangs_up(xfer_pbxd, procs, artifacts, parties):
    pbxd, cap = xfer_pbxd
    b, c_ = Party(B_HZ), Party(C_HZ)
    parties += [b, c_]
    uas_b = uas(pbxd, procs, artifacts, "1002", b, "queue_uas_rtp_hangup.xml", hold_ms=4500)
    uas_c = uas(pbxd, procs, artifacts, "811", c_, "queue_uas_rtp_hangup.xml", hold_ms=7000)
    events = Events(pbxd.ami_port)
    uac, a = caller_party(pbxd, cap, procs, artifacts, parties)
    ami = Raw(pbxd.ami_port)
    ami.login(events="off")
    names = channel_names(ami, {"SIP/1001", "SIP/1002"})
    pump([a, b, c_], 1.0)
    ami.action("Atxfer", Channel=names["SIP/1002"], Exten="811", Context="internal", ActionID="x1")
    reply = ami.response()
    assert (reply["Response"], reply["Message"], reply["ActionID"]) == ("Success", "Atxfer successfully queued", "x1"), reply
    asked = time.monotonic()
    pump([a, b, c_], 10, until=lambda: events.first("AttendedTransfer") is not None)
    transfer = events.first("AttendedTransfer")
    assert transfer, "no AttendedTransfer event\n" + pbxd.log_tail(60)
    done = time.monotonic()
    pump([a, b, c_], 8, until=lambda: ended(uas_c))
    results = {name: s.wait(abandon=True) for name, s in (("811", uas_c), ("1001", uac), ("1002", uas_b))}
    for name, r in results.items():
        assert r.rc == 0, f"{name}'s call did not end cleanly\n" + r.describe()

    names["SIP/811"] = transfer["TransferTargetChannel"]
    assert transfer["Result"] == "Success" and transfer["IsExternal"] == "No", transfer
    assert (transfer["OrigTransfererChannel"], transfer["TransfereeChannel"]) == (names["SIP/1002"], names["SIP/1001"]), transfer
    assert transfer["TransferTargetChannel"].startswith("SIP/811-") and transfer["DestType"] == "Bridge", transfer
    assert transfer["DestBridgeUniqueid"] == transfer["OrigBridgeUniqueid"], transfer
    moh = events.first("MusicOnHoldStart", Channel=names["SIP/1001"])
    assert moh and moh["Class"] == "default", "no MusicOnHoldStart for the transferee"
    assert events.first("MusicOnHoldStop", Channel=names["SIP/1001"]), "the transferee's hold music never stopped"
    assert events.first("BridgeEnter", Channel=names["SIP/811"], BridgeUniqueid=transfer["OrigBridgeUniqueid"])

    all_hz = [A_HZ, B_HZ, C_HZ, MOH_HZ]
    # Consulting: 1001 hears the hold music, 811 hears 1002 (and 1002 hears 811).
    consulted = next(t for t, _ in c_.received)
    assert consulted < done
    assert dominant(a.heard(asked + 0.5, done - 0.2), all_hz) == MOH_HZ
    assert dominant(c_.heard(consulted + 0.2, done - 0.2), all_hz) == B_HZ
    assert dominant(b.heard(consulted + 0.2, done - 0.2), all_hz) == C_HZ
    # Transferred: 1001 and 811 hear each other.
    assert dominant(a.heard(done + 0.3, done + 2.0), all_hz) == C_HZ
    assert dominant(c_.heard(done + 0.3, done + 2.0), all_hz) == A_HZ
    events.close()
    ami.close()


def test_atxfer_to_a_busy_target_returns_the_transferer(xfer_pbxd, procs, artifacts, parties):
    pbxd, cap = xfer_pbxd
    b = Party(B_HZ)
    parties.append(b)
    uas_b = uas(pbxd, procs, artifacts, "1002", b, "queue_uas_rtp_hangup.xml", hold_ms=6000)
    port = netutil.free_port(tcp=False)
    assert register(pbxd, procs, artifacts, "811", port).rc == 0
    busy = callee(pbxd, procs, artifacts, "811", port, "uas_busy.xml", timeout=20)
    events = Events(pbxd.ami_port)
    uac, a = caller_party(pbxd, cap, procs, artifacts, parties)
    ami = Raw(pbxd.ami_port)
    ami.login(events="off")
    names = channel_names(ami, {"SIP/1001", "SIP/1002"})
    pump([a, b], 1.0)
    ami.action("Atxfer", Channel=names["SIP/1001"] + "x", Exten="811")
    assert ami.response()["Message"] == "Channel specified does not exist"
    ami.action("Atxfer", Channel=names["SIP/1002"], Exten="999", Context="internal")
    reply = ami.response()
    assert reply["Response"] == "Error" and "no extension 999@internal" in reply["Message"], reply
    ami.action("Atxfer", Channel=names["SIP/1002"], Exten="811", Context="internal")
    assert ami.response()["Message"] == "Atxfer successfully queued"
    pump([a, b], 10, until=lambda: events.first("MusicOnHoldStop", Channel=names["SIP/1001"]) is not None)
    back = time.monotonic()
    assert busy.wait(abandon=True).rc == 0, "811 was not called"
    assert events.first("MusicOnHoldStart", Channel=names["SIP/1001"]), "the transferee was not held"
    assert events.first("MusicOnHoldStop", Channel=names["SIP/1001"]), "the transferee was not taken off hold\n" + pbxd.log_tail(60)
    ami.action("CancelAtxfer", Channel=names["SIP/1002"])
    reply = ami.response()
    assert reply["Response"] == "Error" and "No attended transfer in progress" in reply["Message"], reply
    pump([a, b], 8, until=lambda: ended(uas_b))
    for name, s in (("1002", uas_b), ("1001", uac)):
        r = s.wait(abandon=True)
        assert r.rc == 0, f"{name}'s call did not end cleanly\n" + r.describe()
    assert events.first("AttendedTransfer") is None
    # Back together: 1001 and 1002 hear each other again.
    assert dominant(a.heard(back + 0.3, back + 2.0), [A_HZ, B_HZ, MOH_HZ]) == B_HZ
    assert dominant(b.heard(back + 0.3, back + 2.0), [A_HZ, B_HZ, MOH_HZ]) == A_HZ
    events.close()
    ami.close()


def test_blind_transfer_by_a_queue_caller_sends_the_agent_into_the_dialplan(xfer_pbxd, procs, artifacts, parties):
    """1001 talks to agent 811 through queue 600; BlindTransfer on 1001's leg sends the agent
    (a leg the queue placed, with no dialplan) to 4000 (Echo) and hangs 1001 up: the agent
    then hears its own tone back."""
    from callhelpers import caller, wait_sip
    from sipphelpers import sdp_media
    pbxd, cap = xfer_pbxd
    agent = Party(B_HZ)
    parties.append(agent)
    uas_agent = uas(pbxd, procs, artifacts, "811", agent, "call_uas_rtp.xml")
    a = Party(A_HZ)
    parties.append(a)
    uac = caller(pbxd, procs, artifacts, "1001", "600", "ivr_uac_rtp_wait_bye.xml", timeout=40,
                 keys={"rtp_port": str(a.port)}).start()
    ok = wait_sip(cap, lambda s, d, t: s == pbxd.sip_port and t.startswith("SIP/2.0 200") and "m=audio" in t, 15)
    assert ok, "the queue call was not answered\n" + pbxd.log_tail()
    a.peer = ("127.0.0.1", sdp_media(ok[2])[1])
    ami = Raw(pbxd.ami_port)
    ami.login(events="off")
    names = channel_names(ami, {"SIP/1001", "SIP/811"}, timeout=15)
    pump([a, agent], 1.0)
    ami.action("BlindTransfer", Channel=names["SIP/1001"], Exten="4000", Context="internal")
    assert ami.response()["Message"] == "Transfer succeeded"
    pump([a, agent], 5, until=lambda: ended(uac))
    ua = uac.wait(abandon=True)
    assert ua.rc == 0, "the transferer (1001) was not hung up\n" + ua.describe()
    moved = time.monotonic()
    pump([a, agent], 2.5)
    assert dominant(agent.heard(moved + 0.5, moved + 2.5), [A_HZ, B_HZ]) == B_HZ, "no echo for the transferred agent"
    ami.action("Hangup", Channel=names["SIP/811"])
    assert ami.response()["Response"] == "Success"
    ub = uas_agent.wait(abandon=True)
    assert ub.rc == 0, ub.describe()
    ami.close()


def test_dual_redirect_moves_the_caller_and_its_dialed_leg(xfer_pbxd, procs, artifacts, parties):
    """Redirect with ExtraChannel of 1001 (the Dial caller) and 1002 (the dialed leg) to 4000
    and 4001 (Echo): both move, neither is hung up, each hears its own tone back."""
    pbxd, cap = xfer_pbxd
    b = Party(B_HZ)
    parties.append(b)
    uas_b = uas(pbxd, procs, artifacts, "1002", b, "call_uas_rtp.xml")
    uac, a = caller_party(pbxd, cap, procs, artifacts, parties)
    ami = Raw(pbxd.ami_port)
    ami.login(events="off")
    names = channel_names(ami, {"SIP/1001", "SIP/1002"})
    pump([a, b], 1.0)
    ami.action("Redirect", Channel=names["SIP/1001"], Exten="4000", Context="internal", Priority="1",
               ExtraChannel=names["SIP/1002"], ExtraExten="4001", ExtraPriority="1")
    assert ami.response()["Message"] == "Dual Redirect successful"
    moved = time.monotonic()
    pump([a, b], 3.0)
    assert not ended(uac) and not ended(uas_b), "a redirected party was hung up"
    assert dominant(a.heard(moved + 0.8, moved + 3.0), [A_HZ, B_HZ]) == A_HZ, "1001 does not hear its echo"
    assert dominant(b.heard(moved + 0.8, moved + 3.0), [A_HZ, B_HZ]) == B_HZ, "1002 does not hear its echo"
    for peer in ("SIP/1001", "SIP/1002"):
        ami.action("Hangup", Channel=names[peer])
        assert ami.response()["Response"] == "Success"
    for name, s in (("1001", uac), ("1002", uas_b)):
        r = s.wait(abandon=True)
        assert r.rc == 0, f"{name}'s call did not end cleanly\n" + r.describe()
    ami.close()


def test_cancel_atxfer_stops_the_ringing_target_and_returns_the_transferer(xfer_pbxd, procs, artifacts, parties):
    pbxd, cap = xfer_pbxd
    b = Party(B_HZ)
    parties.append(b)
    uas_b = uas(pbxd, procs, artifacts, "1002", b, "queue_uas_rtp_hangup.xml", hold_ms=6000)
    port = netutil.free_port(tcp=False)
    assert register(pbxd, procs, artifacts, "811", port).rc == 0
    ringing = callee(pbxd, procs, artifacts, "811", port, "call_uas_ring_until_cancel.xml", timeout=20)
    events = Events(pbxd.ami_port)
    uac, a = caller_party(pbxd, cap, procs, artifacts, parties)
    ami = Raw(pbxd.ami_port)
    ami.login(events="off")
    names = channel_names(ami, {"SIP/1001", "SIP/1002"})
    pump([a, b], 1.0)
    ami.action("Atxfer", Channel=names["SIP/1002"], Exten="811", Context="internal")
    assert ami.response()["Message"] == "Atxfer successfully queued"
    pump([a, b], 5, until=lambda: events.first("DialState", Channel=names["SIP/1002"]) is not None)
    assert events.first("DialState", Channel=names["SIP/1002"]), "811 never rang\n" + pbxd.log_tail(40)
    ami.action("CancelAtxfer", Channel=names["SIP/1002"])
    assert ami.response()["Message"] == "CancelAtxfer successfully queued"
    pump([a, b], 10, until=lambda: events.first("MusicOnHoldStop", Channel=names["SIP/1001"]) is not None)
    back = time.monotonic()
    r = ringing.wait(abandon=True)
    assert r.rc == 0, "811 did not get a CANCEL\n" + r.describe()
    assert events.first("MusicOnHoldStop", Channel=names["SIP/1001"]), "the transferee stayed on hold\n" + pbxd.log_tail(60)
    pump([a, b], 8, until=lambda: ended(uas_b))
    for name, s in (("1002", uas_b), ("1001", uac)):
        r = s.wait(abandon=True)
        assert r.rc == 0, f"{name}'s call did not end cleanly\n" + r.describe()
    assert dominant(a.heard(back + 0.3, back + 2.0), [A_HZ, B_HZ, MOH_HZ]) == B_HZ
    assert dominant(b.heard(back + 0.3, back + 2.0), [A_HZ, B_HZ, MOH_HZ]) == A_HZ
    events.close()
    ami.close()
