"""Queue administration over the manager port with panoramisk: QueueReset after a real
queue call, QueueReload after queues.conf changed on disk, QueueMemberRingInUse with its
QueueMemberRinginuse event, and the console's view of each (`queue show` through Command)."""
from __future__ import annotations

import asyncio
import socket
import time

import pytest

import netutil
from test_ami import ADMIN
from test_queue import agent, call, events, queue_pbxd, wait_queue_log

QUEUES = "[600]\nstrategy = linear\ntimeout = 5\nringinuse = no\nmember => SIP/811\n"


def manager_conf(inst) -> None:
    """The manager port on a free port, with test_ami's admin login."""
    inst.ami_port = netutil.free_port()
    (inst.config_dir / "manager.conf").write_text(
        f"[general]\nenabled = yes\nport = {inst.ami_port}\nbindaddr = 127.0.0.1\n\n"
        f"[{ADMIN[0]}]\nsecret = {ADMIN[1]}\nread = all\nwrite = all\n")


def wait_port(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"manager port {port} never opened")


def admin_actions(port: int, config_dir, later_queues: str) -> dict[str, list[dict]]:
    """Runs the administration actions in order; returns each action's messages."""
    from panoramisk import Manager

    async def scenario():
        manager = Manager(host="127.0.0.1", port=port, username=ADMIN[0], secret=ADMIN[1], ping_delay=60, reconnect_timeout=60)
        ringinuse_events: list[dict] = []
        manager.register_event("QueueMemberRinginuse", lambda _m, event: ringinuse_events.append(dict(event)))
        await manager.connect()
        for _ in range(100):
            if manager.authenticated:
                break
            await asyncio.sleep(0.05)

        async def send(action: dict) -> list[dict]:
            reply = await manager.send_action(action)
            return [dict(m) for m in reply] if isinstance(reply, list) else [dict(reply)]

        out = {"status-before": await send({"Action": "QueueStatus", "Queue": "600"})}
        out["reset"] = await send({"Action": "QueueReset", "Queue": "600"})
        out["status-after"] = await send({"Action": "QueueStatus", "Queue": "600"})
        out["reset-unknown"] = await send({"Action": "QueueReset", "Queue": "nope"})
        out["ringinuse"] = await send({"Action": "QueueMemberRingInUse", "Interface": "SIP/811", "RingInUse": "yes", "Queue": "600"})
        out["ringinuse-bad"] = await send({"Action": "QueueMemberRingInUse", "Interface": "SIP/811", "RingInUse": "perhaps"})
        out["show"] = await send({"Action": "Command", "Command": "queue show 600"})
        (config_dir / "queues.conf").write_text(later_queues)
        out["reload"] = await send({"Action": "QueueReload", "Queue": "600", "Members": "yes"})
        out["status-reloaded"] = await send({"Action": "QueueStatus", "Queue": "600"})
        for _ in range(40):
            if ringinuse_events:
                break
            await asyncio.sleep(0.05)
        out["QueueMemberRinginuse"] = ringinuse_events
        manager.close()
        return out

    return asyncio.run(asyncio.wait_for(scenario(), 20))


def test_queue_reset_reload_and_ringinuse_with_panoramisk(request, procs, artifacts):
    for pbxd, _ in queue_pbxd(request, procs, artifacts, QUEUES, also=manager_conf):
        wait_port(pbxd.ami_port)
        a811 = agent(pbxd, procs, artifacts, "811", hold_ms=300)
        res = call(pbxd, procs, artifacts).wait()
        assert res.rc == 0, res.describe()
        wait_queue_log(pbxd, lambda ls: events(ls, "COMPLETEAGENT"), 5)
        a811.wait()
        out = admin_actions(pbxd.ami_port, pbxd.config_dir, QUEUES + "member => SIP/812,3\n")

        def params(name):
            return next(m for m in out[name] if m.get("Event") == "QueueParams")

        assert params("status-before")["Completed"] == "1", out["status-before"]
        assert out["reset"][0]["Response"] == "Success" and out["reset"][0]["Message"] == "Queue stats reset successfully", out["reset"]
        assert params("status-after")["Completed"] == "0" and params("status-after")["Holdtime"] == "0", out["status-after"]
        member = next(m for m in out["status-after"] if m.get("Event") == "QueueMember")
        assert member["CallsTaken"] == "0" and member["LastCall"] == "0", member
        assert out["reset-unknown"][0]["Response"] == "Error", out["reset-unknown"]

        assert out["ringinuse"][0]["Message"] == "Interface ringinuse set successfully", out["ringinuse"]
        assert out["ringinuse-bad"][0]["Response"] == "Error", out["ringinuse-bad"]
        event = out["QueueMemberRinginuse"][0]
        assert event["Queue"] == "600" and event["Interface"] == "SIP/811" and event["Ringinuse"] == "1", event
        assert "(ringinuse enabled)" in str(out["show"]), out["show"]

        assert out["reload"][0]["Message"] == "Queue reloaded successfully", out["reload"]
        members = {m["Location"]: m for m in out["status-reloaded"] if m.get("Event") == "QueueMember"}
        assert set(members) == {"SIP/811", "SIP/812"} and members["SIP/812"]["Penalty"] == "3", out["status-reloaded"]
        netutil.release(pbxd.ami_port, pbxd.ami_port)
