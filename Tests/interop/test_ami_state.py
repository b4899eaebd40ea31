"""AMI views of a live call that issue 5 left open, against SIPp calls through pbxd:
Status's codec fields (the codec the legs actually negotiated), ExtensionState/ExtensionStatus
with Hold (a re-INVITE to sendonly) and Busy (a peer at its call-limit), and AbsoluteTimeout
driven from panoramisk (TimeToHangup counting down, 0 cancelling, the hangup when it expires).

Each test gets its own pbxd with test_ami.py's manager.conf, plus a [hints] context:
1001 and 1002 each hint their own SIP device."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest

import netutil
import test_ami as base
from callhelpers import running_pbxd
from sipphelpers import both, register, start_callee
from sipprunner import Sipp

HINTS = "\n[hints]\nexten => 1001,hint,SIP/1001\nexten => 1002,hint,SIP/1002\n"


def prepare(inst) -> None:
    base.write_manager_conf(inst)
    ext = inst.config_dir / "extensions.conf"
    ext.write_text(ext.read_text() + HINTS)


def state_pbxd(request, procs, artifacts, peers=None):
    gen = running_pbxd(request, procs, artifacts, peers=peers, prepare=prepare)
    inst, _cap = next(gen)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            base.Raw(inst.ami_port).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        pytest.fail(f"manager port {inst.ami_port} never opened:\n{inst.log_tail(40)}")
    yield inst
    netutil.release(inst.ami_port, inst.ami_port)
    yield from gen


@pytest.fixture
def ami(request, procs, artifacts):
    yield from state_pbxd(request, procs, artifacts)


@pytest.fixture
def ami_limited(request, procs, artifacts):
    """As `ami`, with 1002 limited to one call (sip.conf call-limit=1)."""
    yield from state_pbxd(request, procs, artifacts, peers={"1002": {"call-limit": "1"}})


def start_caller(ami, procs, artifacts, scenario: str, *, hold_ms: int = 1000, keys=None) -> Sipp:
    """1001 calls 1002 with `scenario` (started, not waited for)."""
    host, sip_port = ami.addr
    return Sipp(procs, artifacts, scenario, local_port=netutil.free_port(), remote=ami.addr, service="1002",
                auth=("1001", ami.users["1001"]), keys={"caller": "1001", **(keys or {})},
                extra=["-d", str(hold_ms), "-auth_uri", f"1002@{host}:{sip_port}"], timeout=30, tag="1001").start()


def start_callee_1002(ami, procs, artifacts, scenario: str = "uas_answer.xml", hold_ms: int = 1000) -> Sipp:
    port = netutil.free_port()
    reg = register(ami, procs, artifacts, "1002", port)
    assert reg.rc == 0, reg.describe()
    return start_callee(ami, procs, artifacts, "1002", port, scenario=scenario, hold_ms=hold_ms)


def register_1001(ami, procs, artifacts) -> None:
    """The caller registers too: an unregistered dynamic peer is Unavailable, as in chan_sip."""
    reg = register(ami, procs, artifacts, "1001", netutil.free_port())
    assert reg.rc == 0, reg.describe()


def status_list(c: base.Raw) -> list[dict]:
    c.action("Status")
    assert c.response()["Message"] == "Channel status will follow"
    items = []
    while (m := c.message()).get("Event") != "StatusComplete":
        items.append(m)
    return items


def wait_bridged_status(c: base.Raw, timeout: float = 10) -> dict[str, dict]:
    """Status events of the two legs by peer (`SIP/1001`, `SIP/1002`) once both are up and bridged."""
    deadline = time.monotonic() + timeout
    legs: dict[str, dict] = {}
    while time.monotonic() < deadline:
        legs = {m["Channel"].split("-")[0]: m for m in status_list(c)}
        if len(legs) == 2 and all(m["ChannelStateDesc"] == "Up" and m["BridgeID"] for m in legs.values()):
            return legs
        time.sleep(0.1)
    pytest.fail(f"no bridged call within {timeout} s: {legs}")


def extension_state(c: base.Raw, exten: str) -> tuple[int, str]:
    c.action("ExtensionState", Exten=exten, Context="hints")
    m = c.response()
    assert m["Response"] == "Success" and m["Hint"] == f"SIP/{exten}", m
    return int(m["Status"]), m["StatusText"]


def collapse(values: list) -> list:
    return [v for i, v in enumerate(values) if i == 0 or v != values[i - 1]]


@pytest.mark.parametrize("offer,codec", [(("8", "a=rtpmap:8 PCMA/8000"), "alaw"),
                                          (("0 8", "a=rtpmap:0 PCMU/8000\na=rtpmap:8 PCMA/8000"), "ulaw")],
                         ids=["pcma-only", "pcmu-first"])
def test_status_shows_the_codec_the_call_negotiated(ami, procs, artifacts, offer, codec):
    """A caller offering PCMA only gets alaw on both legs, one offering PCMU first gets ulaw:
    Status prints it in Asterisk's fields and order (Nativeformats `(alaw)`, Readformat…)."""
    callee = start_callee_1002(ami, procs, artifacts, scenario="uas_answer_first_codec.xml")
    caller = start_caller(ami, procs, artifacts, "uac_call_codecs.xml", hold_ms=3000,
                          keys={"codecs": offer[0], "rtpmap": offer[1]})
    c = base.Raw(ami.ami_port)
    c.login(events="off")
    legs = wait_bridged_status(c)
    for peer, m in legs.items():
        keys = list(m)
        assert keys[keys.index("Data") + 1:keys.index("Callgroup")] == \
            ["Nativeformats", "Readformat", "Readtrans", "Writeformat", "Writetrans"], (peer, keys)
        assert (m["Nativeformats"], m["Readformat"], m["Writeformat"]) == (f"({codec})", codec, codec), (peer, m)
        assert m["Readtrans"] == "" and m["Writetrans"] == "", (peer, m)
    assert legs["SIP/1001"]["DNID"] == "1002" and legs["SIP/1002"]["DNID"] == "", legs
    c.close()
    uac = caller.wait()
    uas = callee.wait(abandon=uac.rc != 0)
    assert uac.rc == 0 and uas.rc == 0, both(uac, uas)


def test_extension_state_shows_hold_then_in_use_after_unhold(ami, procs, artifacts):
    """1001 calls 1002, puts it on hold (re-INVITE a=sendonly) and resumes (a=sendrecv):
    ExtensionState 1001@hints goes Idle → InUse → Hold (16) → InUse → Idle, the ExtensionStatus
    events say the same, and 1002 (the held party) is never on hold itself."""
    pano = base.PanoramiskListener(ami.ami_port)
    c = base.Raw(ami.ami_port)
    c.login(events="off")
    assert extension_state(c, "1001") == (4, "Unavailable")
    register_1001(ami, procs, artifacts)
    assert extension_state(c, "1001") == (0, "Idle")
    callee = start_callee_1002(ami, procs, artifacts, scenario="uas_answer_reinvite.xml")
    caller = start_caller(ami, procs, artifacts, "uac_call_hold.xml")
    seen: dict[str, list[tuple[int, str]]] = {"1001": [], "1002": []}
    while caller.proc.poll() is None:
        for exten in seen:
            seen[exten].append(extension_state(c, exten))
        time.sleep(0.03)
    uac = caller.wait()
    uas = callee.wait(abandon=uac.rc != 0)
    assert uac.rc == 0 and uas.rc == 0, both(uac, uas)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and extension_state(c, "1001") != (0, "Idle"):
        time.sleep(0.1)
    assert extension_state(c, "1001") == (0, "Idle")
    polled = collapse([(0, "Idle")] + seen["1001"] + [(0, "Idle")])
    assert polled == [(0, "Idle"), (1, "InUse"), (16, "Hold"), (1, "InUse"), (0, "Idle")], polled
    assert (16, "Hold") not in seen["1002"], seen["1002"]
    deadline = time.monotonic() + 3
    events: list[dict] = []
    while time.monotonic() < deadline:
        events = [e for e in pano.events if e.get("Event") == "ExtensionStatus" and e.get("Context") == "hints"]
        if [e["Status"] for e in events if e["Exten"] == "1001"][-1:] == ["0"]:
            break
        time.sleep(0.1)
    pano.close()
    c.close()
    held = [(e["Status"], e["StatusText"]) for e in events if e["Exten"] == "1001"]
    assert held == [("0", "Idle"), ("1", "InUse"), ("16", "Hold"), ("1", "InUse"), ("0", "Idle")], held
    assert all(e["Hint"] == f"SIP/{e['Exten']}" for e in events), events
    called = [e["Status"] for e in events if e["Exten"] == "1002"]
    assert "8" in called and "16" not in called and called[-1] == "0", called


def test_extension_state_shows_busy_for_a_peer_at_its_call_limit(ami_limited, procs, artifacts):
    """1002 has call-limit=1: on its one answered call it is Busy (2), while 1001, without a
    limit, is InUse (1) — in ExtensionState and in ExtensionStateList; both are Idle again
    after the call."""
    ami = ami_limited
    c = base.Raw(ami.ami_port)
    c.login(events="off")
    register_1001(ami, procs, artifacts)
    callee = start_callee_1002(ami, procs, artifacts)
    caller = start_caller(ami, procs, artifacts, "uac_call.xml", hold_ms=3000)
    wait_bridged_status(c)
    assert extension_state(c, "1002") == (2, "Busy")
    assert extension_state(c, "1001") == (1, "InUse")
    c.action("ExtensionStateList", ActionID="esl")
    start = c.response()
    assert (start["Message"], start["EventList"]) == ("Extension Statuses will follow", "start"), start
    listed = []
    while (m := c.message()).get("Event") == "ExtensionStatus":
        assert list(m)[:2] == ["Event", "ActionID"] and m["ActionID"] == "esl", m
        listed.append((m["Exten"], m["Context"], m["Hint"], m["Status"], m["StatusText"]))
    assert (m["Event"], m["ListItems"]) == ("ExtensionStateListComplete", str(len(listed))), m
    assert listed == [("1001", "hints", "SIP/1001", "1", "InUse"), ("1002", "hints", "SIP/1002", "2", "Busy")], listed
    uac = caller.wait()
    uas = callee.wait(abandon=uac.rc != 0)
    assert uac.rc == 0 and uas.rc == 0, both(uac, uas)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and extension_state(c, "1002") != (0, "Idle"):
        time.sleep(0.1)
    assert extension_state(c, "1002") == (0, "Idle")
    c.close()


def test_absolute_timeout_counts_down_cancels_and_hangs_up(ami, procs, artifacts):
    """From panoramisk, on the caller's leg of a call nobody hangs up: AbsoluteTimeout 30
    shows in Status's TimeToHangup and counts down; Timeout 0 cancels it (TimeToHangup 0, the
    call outlives the old deadline); AbsoluteTimeout 2 then hangs the channel up about 2 s
    later, and the SIPp caller gets pbxd's BYE."""
    from panoramisk import Manager

    callee = start_callee_1002(ami, procs, artifacts)
    caller = start_caller(ami, procs, artifacts, "uac_call_remote_bye.xml")
    c = base.Raw(ami.ami_port)
    c.login(events="off")
    name = wait_bridged_status(c)["SIP/1001"]["Channel"]
    c.close()
    hangups: list[tuple[float, dict]] = []

    async def scenario() -> dict:
        manager = Manager(host="127.0.0.1", port=ami.ami_port, username=base.ADMIN[0], secret=base.ADMIN[1],
                          ping_delay=60, reconnect_timeout=60)
        manager.register_event("Hangup", lambda _m, e: hangups.append((time.monotonic(), dict(e))))
        await manager.connect()
        for _ in range(100):
            if manager.authenticated:
                break
            await asyncio.sleep(0.05)

        async def time_to_hangup() -> int:
            replies = await manager.send_action({"Action": "Status", "Channel": name})
            status = [m for m in replies if m.get("Event") == "Status"]
            assert len(status) == 1, replies
            return int(status[0]["TimeToHangup"])

        out = {}
        reply = await manager.send_action({"Action": "AbsoluteTimeout", "Channel": name, "Timeout": "30"})
        out["set"] = dict(reply)
        out["first"] = await time_to_hangup()
        await asyncio.sleep(2.1)
        out["later"] = await time_to_hangup()
        await manager.send_action({"Action": "AbsoluteTimeout", "Channel": name, "Timeout": "1"})
        await manager.send_action({"Action": "AbsoluteTimeout", "Channel": name, "Timeout": "0"})
        out["cancelled"] = await time_to_hangup()
        await asyncio.sleep(1.8)
        out["alive_after_cancel"] = await time_to_hangup()
        out["missing"] = dict(await manager.send_action(
            {"Action": "AbsoluteTimeout", "Channel": "SIP/9999-00000000", "Timeout": "5"}))
        out["started"] = time.monotonic()
        await manager.send_action({"Action": "AbsoluteTimeout", "Channel": name, "Timeout": "2"})
        for _ in range(100):
            if any(e.get("Channel") == name for _t, e in hangups):
                break
            await asyncio.sleep(0.05)
        manager.close()
        return out

    out = asyncio.run(asyncio.wait_for(scenario(), 25))
    assert out["set"]["Response"] == "Success" and out["set"]["Message"] == "Timeout Set", out
    assert 29 <= out["first"] <= 30 and out["first"] - 3 <= out["later"] <= out["first"] - 1, out
    assert out["cancelled"] == 0 and out["alive_after_cancel"] == 0, out
    assert out["missing"]["Response"] == "Error" and out["missing"]["Message"] == "No such channel", out
    ended = [t for t, e in hangups if e.get("Channel") == name]
    assert ended, f"the caller's leg was not hung up after AbsoluteTimeout 2: {hangups}"
    assert 1.5 <= ended[0] - out["started"] <= 3.5, ended[0] - out["started"]
    uac = caller.wait()
    uas = callee.wait(abandon=uac.rc != 0)
    assert uac.rc == 0, "caller: no BYE from pbxd when the timeout expired\n" + both(uac, uas)
