"""The manager port (AMI) against three independent client libraries — panoramisk
(asyncio), pyst2's asterisk.manager (threads) and asterisk-ami (threads) — plus raw-socket
checks of what the libraries never send: garbage, overlong lines, wrong secrets, a client
that never reads while a SIPp call goes through pbxd.

Each test gets its own pbxd with a manager.conf on a free port: `admin` (read/write all),
`wallboard` (read=call, write=none) and `crm` (read=call, write=originate,call)."""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import socket
import threading
import time

import pytest

import netutil
from callhelpers import running_pbxd, wait_log
from sipphelpers import both, register, run_caller, start_callee

ADMIN = ("admin", "ami-Admin-7q")
WALLBOARD = ("wallboard", "ami-Wall-3k")
CRM = ("crm", "ami-Crm-5v")


def write_manager_conf(inst) -> None:
    inst.ami_port = netutil.free_port()
    (inst.config_dir / "manager.conf").write_text(f"""\
[general]
enabled = yes
port = {inst.ami_port}
bindaddr = 127.0.0.1
authtimeout = 3

[{ADMIN[0]}]
secret = {ADMIN[1]}
read = all
write = all
permit = 127.0.0.1/255.255.255.255

[{WALLBOARD[0]}]
secret = {WALLBOARD[1]}
read = call
write = none

[{CRM[0]}]
secret = {CRM[1]}
read = call
write = originate,call
""")
    # 4XXX answers and echoes: where Redirect and BlindTransfer send a caller (as in ami-06).
    ext = inst.config_dir / "extensions.conf"
    ext.write_text(ext.read_text() + "exten => _4XXX,1,Answer()\n same => n,Echo()\n"
                   "exten => 600,1,Ringing()\n same => n,Wait(0.5)\n same => n,Queue(600,,,,30)\n")
    # One queue with a static member, for the queue actions ACD registers into the manager.
    (inst.config_dir / "queues.conf").write_text("[general]\npersistentmembers = no\n[600]\nstrategy = ringall\nmember => SIP/811\n")


@pytest.fixture
def ami(request, procs, artifacts):
    """A running pbxd with the manager port open; yields the pbxd (with .ami_port)."""
    yield from manager_pbxd(request, procs, artifacts)


@pytest.fixture
def ami_stopped_by_test(request, procs, artifacts):
    """As `ami`, for a test that stops pbxd itself."""
    yield from manager_pbxd(request, procs, artifacts, stopped_by_test=True)


def manager_pbxd(request, procs, artifacts, stopped_by_test: bool = False):
    gen = running_pbxd(request, procs, artifacts, prepare=write_manager_conf, stopped_by_test=stopped_by_test)
    inst, _cap = next(gen)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", inst.ami_port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        pytest.fail(f"manager port {inst.ami_port} never opened:\n{inst.log_tail(40)}")
    yield inst
    netutil.release(inst.ami_port, inst.ami_port)
    yield from gen


# -- a raw client, for what libraries never send -------------------------------------------------

class Raw:
    """A plain TCP AMI client: sends bytes, reads whole CRLF-framed messages."""

    def __init__(self, port: int, rcvbuf: int | None = None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        self.buf = b""
        self.banner = self._line()

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def send(self, raw: bytes | str) -> None:
        self.sock.sendall(raw.encode() if isinstance(raw, str) else raw)

    def action(self, name: str, **headers) -> None:
        self.send("".join(f"{k}: {v}\r\n" for k, v in [("Action", name), *headers.items()]) + "\r\n")

    def message(self) -> dict[str, str]:
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        block, self.buf = self.buf.split(b"\r\n\r\n", 1)
        out: dict[str, str] = {}
        for line in block.decode().split("\r\n"):
            key, _, value = line.partition(": ")
            out.setdefault(key, value)
        return out

    def response(self, skip_events: bool = True) -> dict[str, str]:
        while True:
            m = self.message()
            # OriginateResponse carries a Response key too: a reply is a message without Event.
            if ("Response" in m and "Event" not in m) or not skip_events:
                return m

    def closed_within(self, seconds: float) -> bool:
        self.sock.settimeout(seconds)
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except (socket.timeout, TimeoutError):
            return False
        except OSError:
            return True

    def login(self, user=ADMIN, events: str = "on") -> dict[str, str]:
        self.action("Login", Username=user[0], Secret=user[1], Events=events)
        return self.response()

    def close(self) -> None:
        self.sock.close()


# -- the three libraries ----------------------------------------------------------------------------

def close_pyst2(m) -> None:
    """pyst2's close() sends Logoff; pbxd answers Goodbye and closes the socket (as Asterisk
    does), or has already closed it after a failed login. Depending on whether pyst2's reader
    thread saw the EOF first, its close() then fails on the closed socket: not a server error."""
    from asterisk.manager import ManagerSocketException
    with contextlib.suppress(ManagerSocketException, ValueError):
        m.close()


def test_panoramisk_plain_and_challenge_login_ping_command_coresettings_events(ami):
    from panoramisk import Manager

    async def scenario():
        seen: list = []
        manager = Manager(host="127.0.0.1", port=ami.ami_port, username=ADMIN[0], secret=ADMIN[1],
                          ping_delay=60, reconnect_timeout=60)
        manager.register_event("*", lambda _m, event: seen.append(event))
        await manager.connect()
        for _ in range(100):
            if manager.authenticated:
                break
            await asyncio.sleep(0.05)
        assert manager.authenticated, "panoramisk did not log in"
        ping = await manager.send_action({"Action": "Ping"})
        assert ping.Response == "Success" and ping.Ping == "Pong", ping
        settings = await manager.send_action({"Action": "CoreSettings"})
        assert settings.AMIversion == "7.0.3" and settings.AsteriskVersion.startswith("18."), settings
        output = await manager.send_command("manager show users")
        assert output.Response == "Success" and "admin" in str(output.Output), output
        peers = await manager.send_action({"Action": "SIPpeers"})   # an EventList
        names = [m.ObjectName for m in peers if m.get("Event") == "PeerEntry"]
        assert {"1001", "1002"} <= set(names), names
        assert peers[-1].Event == "PeerlistComplete" and int(peers[-1].ListItems) == len(names)
        await manager.send_action({"Action": "UserEvent", "UserEvent": "CRMPop", "Ticket": "42"})
        for _ in range(40):
            if any(e.get("Event") == "UserEvent" and e.get("Ticket") == "42" for e in seen):
                break
            await asyncio.sleep(0.05)
        assert any(e.get("Event") == "FullyBooted" for e in seen), [e.get("Event") for e in seen]
        assert any(e.get("Event") == "UserEvent" and e.get("Ticket") == "42" for e in seen), [e.get("Event") for e in seen]
        manager.close()

        # MD5 challenge login through the generic action call
        manager = Manager(host="127.0.0.1", port=ami.ami_port, ping_delay=60, reconnect_timeout=60)
        await manager.connect()
        await asyncio.sleep(0.2)
        challenge = await manager.send_action({"Action": "Challenge", "AuthType": "MD5"})
        key = hashlib.md5((challenge.Challenge + ADMIN[1]).encode()).hexdigest()
        login = await manager.send_action({"Action": "Login", "AuthType": "MD5", "Username": ADMIN[0], "Key": key})
        assert login.Response == "Success" and login.Message == "Authentication accepted", login
        pong = await manager.send_action({"Action": "Ping"})
        assert pong.Ping == "Pong"
        manager.close()

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_pyst2_plain_and_challenge_login_ping_command_coresettings_events(ami):
    from asterisk.manager import Manager, ManagerAuthException

    seen: list = []
    m = Manager()
    m.connect("127.0.0.1", ami.ami_port)
    try:
        m.register_event("*", lambda event, _m: seen.append((event.name, dict(event.headers))))
        m.login(*ADMIN)
        assert m.ping().get_header("Ping") == "Pong"
        settings = m.send_action({"Action": "CoreSettings"})
        assert settings.get_header("AMIversion") == "7.0.3"
        out = m.command("manager show users")
        assert out.get_header("Response") == "Success" and out.get_header("Message") == "Command output follows"
        bad = m.command("no such thing")
        assert bad.get_header("Response") == "Error"
        m.send_action({"Action": "UserEvent", "UserEvent": "CRMPop", "Ticket": "7"})
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(n == "UserEvent" for n, _ in seen):
            time.sleep(0.05)
        assert ("UserEvent" in [n for n, _ in seen]) and ("FullyBooted" in [n for n, _ in seen]), seen
        # DB round trip
        assert m.dbput("pbxdtest", "k", "v 1").get_header("Response") == "Success"
        assert m.dbget("pbxdtest", "k").get_header("Message") == "Result will follow"
    finally:
        close_pyst2(m)

    m = Manager()
    m.connect("127.0.0.1", ami.ami_port)
    try:
        challenge = m.send_action({"Action": "Challenge", "AuthType": "MD5"}).get_header("Challenge")
        key = hashlib.md5((challenge + ADMIN[1]).encode()).hexdigest()
        ok = m.send_action({"Action": "Login", "AuthType": "MD5", "Username": ADMIN[0], "Key": key})
        assert ok.get_header("Message") == "Authentication accepted"
    finally:
        close_pyst2(m)

    m = Manager()
    m.connect("127.0.0.1", ami.ami_port)
    with pytest.raises(ManagerAuthException):
        m.login(ADMIN[0], "wrong")
    close_pyst2(m)


def test_asterisk_ami_plain_and_challenge_login_ping_command_coresettings_events(ami):
    from asterisk.ami import AMIClient, SimpleAction

    seen: list = []
    client = AMIClient(address="127.0.0.1", port=ami.ami_port, timeout=10)
    client.add_event_listener(lambda event, **_: seen.append(event))
    try:
        login = client.login(*ADMIN).response
        assert login is not None and not login.is_error(), login
        pong = client.send_action(SimpleAction("Ping")).response
        assert pong.keys.get("Ping") == "Pong", pong
        settings = client.send_action(SimpleAction("CoreSettings")).response
        assert settings.keys.get("AsteriskVersion", "").startswith("18."), settings
        out = client.send_action(SimpleAction("Command", Command="manager show users")).response
        assert not out.is_error() and "admin" in out.keys.get("Output", ""), out
        client.send_action(SimpleAction("UserEvent", UserEvent="CRMPop", Ticket="9")).response
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(e.name == "UserEvent" for e in seen):
            time.sleep(0.05)
        assert any(e.name == "UserEvent" and e.keys.get("Ticket") == "9" for e in seen), [e.name for e in seen]
        assert any(e.name == "FullyBooted" for e in seen)
        client.logoff()
    finally:
        client.disconnect()

    client = AMIClient(address="127.0.0.1", port=ami.ami_port, timeout=10)
    try:
        client.connect()
        challenge = client.send_action(SimpleAction("Challenge", AuthType="MD5")).response.keys["Challenge"]
        key = hashlib.md5((challenge + ADMIN[1]).encode()).hexdigest()
        login = client.send_action(SimpleAction("Login", AuthType="MD5", Username=ADMIN[0], Key=key)).response
        assert not login.is_error(), login
    finally:
        client.disconnect()


# -- permissions, failures, bad input ------------------------------------------------------------

def test_user_without_a_class_can_neither_do_nor_see_what_it_gates(ami):
    wall = Raw(ami.ami_port)
    assert wall.login(WALLBOARD)["Message"] == "Authentication accepted"
    for action in ("Command", "DBPut", "UserEvent", "CoreSettings", "SIPpeers", "Filter"):
        wall.action(action, ActionID=action)
        r = wall.response()
        assert (r["Response"], r["Message"], r["ActionID"]) == ("Error", "Permission denied", action), r
    wall.action("Ping", ActionID="p")
    assert wall.response()["Ping"] == "Pong"
    # An admin's UserEvent (class user) and login (security) must not reach the wallboard.
    admin = Raw(ami.ami_port)
    admin.login()
    admin.action("UserEvent", UserEvent="Secret", ActionID="u")
    assert admin.response()["Message"] == "Event Sent"
    wall.action("Ping", ActionID="p2")
    got = []
    while True:
        m = wall.message()
        got.append(m)
        if m.get("ActionID") == "p2":
            break
    leaked = [m for m in got if "Event" in m]
    assert not leaked, f"wallboard (read=call) received {leaked}"
    admin.close()
    wall.close()
    # `originate` without `system`: applications that run commands are refused.
    crm = Raw(ami.ami_port)
    crm.login(CRM)
    crm.action("Originate", Channel="SIP/1001", Application="System", Data="touch /tmp/x")
    assert crm.response()["Message"] == "Originate Access Forbidden: app or data blacklisted"
    crm.action("Originate", Channel="SIP/1001", Application="Playback", Data="${SHELL(id)}")
    assert crm.response()["Message"] == "Originate Access Forbidden: app or data blacklisted"
    crm.close()


def test_wrong_secret_fails_after_a_delay_and_is_throttled(ami):
    for attempt in range(5):
        c = Raw(ami.ami_port)
        assert c.banner == b"Asterisk Call Manager/7.0.3"
        start = time.monotonic()
        c.action("Login", Username=ADMIN[0], Secret="guess", ActionID=f"bad-{attempt}")
        r = c.response()
        elapsed = time.monotonic() - start
        assert (r["Response"], r["Message"], r["ActionID"]) == ("Error", "Authentication failed", f"bad-{attempt}")
        assert 0.9 <= elapsed < 3, f"failed login answered after {elapsed:.2f} s (Asterisk waits 1 s)"
        assert c.closed_within(3), "connection not closed after a failed login"
        c.close()
    # Five failures from 127.0.0.1: now even the right secret is refused.
    c = Raw(ami.ami_port)
    assert c.login()["Message"] == "Authentication failed"
    c.close()
    assert wait_log(ami, r"too many failed manager logins", 5), ami.log_tail(30)
    assert "guess" not in ami.log_text() and ADMIN[1] not in ami.log_text(), "a secret reached the log"


def test_client_that_never_logs_in_is_dropped_after_authtimeout(ami):
    idle = Raw(ami.ami_port)
    start = time.monotonic()
    assert idle.closed_within(8), "an unauthenticated session outlived authtimeout"
    assert 2.5 <= time.monotonic() - start < 6
    idle.close()
    assert wait_log(ami, r"did not log in in time", 5)


def test_security_events_reach_a_logged_in_admin(ami):
    watcher = Raw(ami.ami_port)
    watcher.login()
    bad = Raw(ami.ami_port)
    bad.action("Login", Username="nobody", Secret="x")
    bad.response()
    names = set()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "InvalidAccountID" not in names:
        names.add(watcher.message().get("Event"))
    assert "InvalidAccountID" in names, names
    watcher.close()


def test_garbage_and_overlong_input_get_errors_not_crashes(ami):
    c = Raw(ami.ami_port)
    c.send(b"\x00\xff\xfe garbage without colon\r\n\r\n")
    assert c.response()["Message"] == "Missing action in request"
    c.send("Action: Ping\r\nActionID: before-login\r\n\r\n")
    assert c.response()["Message"] == "Permission denied"
    c.login()
    c.send("Action: NoSuchThing\r\nActionID: x\r\n\r\n")
    assert c.response()["Message"].startswith("Invalid/unknown command: NoSuchThing.")
    c.send("Action: Getvar\r\nActionID: m\r\n\r\n")
    assert c.response()["Message"] == "No variable specified"
    c.send("Action: Ping\nActionID: lf\n\n")           # bare LF, as Asterisk accepts
    assert c.response()["ActionID"] == "lf"
    c.send("Action: Ping\r\nX: " + "y" * 5000 + "\r\n\r\n")
    assert c.response()["Message"] == "Failed to parse message: line too long"
    assert c.closed_within(3)
    c.close()
    too_many = Raw(ami.ami_port)
    too_many.send("Action: Ping\r\n" + "".join(f"H{i}: v\r\n" for i in range(200)) + "\r\n")
    assert too_many.response()["Message"] == "Too many lines in message or allocation failure"
    too_many.close()
    assert wait_log(ami, r"line longer than the limit", 5)
    # still serving
    again = Raw(ami.ami_port)
    assert again.login()["Message"] == "Authentication accepted"
    again.close()


def test_client_that_never_reads_does_not_stall_a_call(ami, procs, artifacts):
    # A logged-in client with a tiny receive window that never reads again.
    stuck = Raw(ami.ami_port, rcvbuf=4096)
    assert stuck.login()["Message"] == "Authentication accepted"
    # Another client floods large UserEvents (about 100 kB each), which every session receives.
    flood = Raw(ami.ami_port)
    flood.login(events="off")
    stop = threading.Event()

    def flooder():
        payload = "".join(f"Pad{i}: {'z' * 1000}\r\n" for i in range(100))
        n = 0
        while not stop.is_set() and n < 200:
            flood.send(f"Action: UserEvent\r\nUserEvent: Flood\r\n{payload}\r\n")
            flood.response()
            n += 1

    t = threading.Thread(target=flooder, daemon=True)
    t.start()
    port = netutil.free_port()
    reg = register(ami, procs, artifacts, "1002", port)
    assert reg.rc == 0, reg.describe()
    callee = start_callee(ami, procs, artifacts, "1002", port)
    started = time.monotonic()
    uac = run_caller(ami, procs, artifacts, "1001", "1002", hold_ms=1000)
    uas = callee.wait(abandon=uac.rc != 0)
    took = time.monotonic() - started
    stop.set()
    t.join(30)
    assert uac.rc == 0 and uas.rc == 0, both(uac, uas)
    assert took < 15, f"the call took {took:.1f} s with a stuck manager client"
    assert wait_log(ami, r"manager client (is not reading its messages|fell too far behind)", 20), ami.log_tail(40)
    # the flooding client and new clients are still served
    flood.action("Ping", ActionID="alive")
    assert flood.response()["ActionID"] == "alive"
    stuck.close()
    flood.close()


# -- Originate: click-to-call ------------------------------------------------------------------

ORIGINATE = {"Action": "Originate", "Channel": "SIP/1001", "Exten": "1002", "Context": "internal", "Priority": "1",
             "CallerID": '"Click2Call" <1002>', "Timeout": "15000", "Async": "true"}


def originate_with_panoramisk(port: int) -> tuple[dict, dict | None]:
    from panoramisk import Manager

    async def scenario():
        manager = Manager(host="127.0.0.1", port=port, username=ADMIN[0], secret=ADMIN[1], ping_delay=60, reconnect_timeout=60)
        await manager.connect()
        for _ in range(100):
            if manager.authenticated:
                break
            await asyncio.sleep(0.05)
        # panoramisk resolves an async Originate's future with the OriginateResponse event.
        replies = await manager.send_action({**ORIGINATE, "Variable": ["CRM_ID=8812"]})
        manager.close()
        return replies if isinstance(replies, list) else [replies]

    replies = asyncio.run(asyncio.wait_for(scenario(), 30))
    event = next((m for m in replies if m.get("Event") == "OriginateResponse"), None)
    return dict(replies[0]), dict(event) if event else None


def originate_with_pyst2(port: int) -> tuple[dict, dict | None]:
    from asterisk.manager import Manager
    done = threading.Event()
    seen: dict = {}

    def on_response(event, _m):
        seen.update(event.headers)
        done.set()

    m = Manager()
    m.connect("127.0.0.1", port)
    try:
        m.register_event("OriginateResponse", on_response)
        m.login(*ADMIN)
        reply = m.originate("SIP/1001", "1002", context="internal", priority="1", timeout="15000",
                            caller_id='"Click2Call" <1002>', run_async=True, variables={"CRM_ID": "8812"})
        done.wait(20)
        return dict(reply.headers), (seen or None)
    finally:
        close_pyst2(m)


def originate_with_asterisk_ami(port: int) -> tuple[dict, dict | None]:
    from asterisk.ami import AMIClient, SimpleAction
    done = threading.Event()
    seen: dict = {}

    def on_event(event, **_):
        if event.name == "OriginateResponse":
            seen.update(event.keys)
            done.set()

    client = AMIClient(address="127.0.0.1", port=port, timeout=20)
    client.add_event_listener(on_event)
    try:
        assert not client.login(*ADMIN).response.is_error()
        fields = {k: v for k, v in ORIGINATE.items() if k != "Action"}
        reply = client.send_action(SimpleAction("Originate", Variable="CRM_ID=8812", **fields)).response
        done.wait(20)
        return {"Response": reply.status, **reply.keys}, (seen or None)
    finally:
        client.disconnect()


@pytest.mark.parametrize("client", [originate_with_panoramisk, originate_with_pyst2, originate_with_asterisk_ami],
                         ids=["panoramisk", "pyst2", "asterisk-ami"])
def test_click_to_call_async_originate(ami, procs, artifacts, client):
    """Originate SIP/1001 → 1002@internal (Async): 1001 (SIPp UAS) answers, the dialplan
    dials 1002 (SIPp UAS), they talk, 1001 hangs up; OriginateResponse reports Success."""
    agent_port, customer_port = netutil.free_port(), netutil.free_port()
    for user, port in (("1001", agent_port), ("1002", customer_port)):
        reg = register(ami, procs, artifacts, user, port)
        assert reg.rc == 0, reg.describe()
    agent = start_callee(ami, procs, artifacts, "1001", agent_port, scenario="uas_answer_hangup.xml", hold_ms=2000)
    customer = start_callee(ami, procs, artifacts, "1002", customer_port)
    reply, response = client(ami.ami_port)
    assert reply.get("Response") == "Success" and reply.get("Message") == "Originate successfully queued", reply
    assert response is not None, "no OriginateResponse event"
    assert response["Response"] == "Success" and response["Reason"] == "4", response
    assert response["Channel"].startswith("SIP/1001-") and response["Context"] == "internal" and response["Exten"] == "1002"
    a = agent.wait()
    c = customer.wait()
    assert a.rc == 0, "agent leg (originated, answers, hangs up) incomplete\n" + both(a, c)
    assert c.rc == 0, "customer leg (dialled from the dialplan) incomplete\n" + both(c, a)
    invite = a.received("INVITE")[0]
    assert re.search(r'(?im)^From:\s*"Click2Call"\s*<sip:1002@', invite), invite


def test_originate_failures_and_permission(ami, procs, artifacts):
    c = Raw(ami.ami_port)
    c.login()
    c.action("Originate", Exten="1001", Context="internal", ActionID="m")
    assert c.response()["Message"] == "Channel not specified"
    c.action("Originate", Channel="nonsense", Exten="1001", Context="internal", Priority="1")
    assert c.response()["Message"] == "Invalid channel"
    # Synchronous Originate to an unregistered peer.
    c.action("Originate", Channel="SIP/1001", Application="Playback", Data="demo-congrats")
    assert c.response()["Message"] == "Originate failed"
    # Async to an unregistered peer: queued, then OriginateResponse Failure with Reason 0.
    c.action("Originate", Channel="SIP/1002", Exten="1001", Context="internal", Priority="1", Async="yes", ActionID="a1")
    assert c.response()["Message"] == "Originate successfully queued"
    deadline = time.monotonic() + 10
    event = {}
    while time.monotonic() < deadline and event.get("Event") != "OriginateResponse":
        event = c.message()
    assert event.get("Event") == "OriginateResponse" and event["ActionID"] == "a1", event
    assert (event["Response"], event["Channel"], event["Reason"], event["Uniqueid"]) == ("Failure", "SIP/1002", "0", "<unknown>")
    c.close()
    wall = Raw(ami.ami_port)
    wall.login(WALLBOARD)
    wall.action("Originate", Channel="SIP/1001", Exten="1002", Context="internal", Priority="1")
    assert wall.response()["Message"] == "Permission denied"
    wall.close()
    # `originate` without `system`: applications that run commands are refused.
    crm = Raw(ami.ami_port)
    crm.login(CRM)
    crm.action("Originate", Channel="SIP/1001", Application="System", Data="touch /tmp/x")
    assert crm.response()["Message"] == "Originate Access Forbidden: app or data blacklisted"
    crm.action("Originate", Channel="SIP/1001", Application="Playback", Data="${SHELL(id)}")
    assert crm.response()["Message"] == "Originate Access Forbidden: app or data blacklisted"
    crm.close()


def test_originate_to_an_application(ami, procs, artifacts):
    """Originate SIP/1001 with Application Wait(1) and a ChannelId: the phone answers, waits a
    second, and pbxd hangs up (the callee's SIPp receives the BYE); OriginateResponse names the
    application and carries the ChannelId as the channel's Uniqueid."""
    port = netutil.free_port()
    reg = register(ami, procs, artifacts, "1001", port)
    assert reg.rc == 0, reg.describe()
    phone = start_callee(ami, procs, artifacts, "1001", port)
    c = Raw(ami.ami_port)
    c.login(events="call")
    c.action("Originate", Channel="SIP/1001", Application="Wait", Data="1", Async="true", ActionID="app",
             ChannelId="crm-call-4711")
    assert c.response()["Message"] == "Originate successfully queued"
    deadline = time.monotonic() + 15
    event: dict = {}
    while time.monotonic() < deadline and event.get("Event") != "OriginateResponse":
        event = c.message()
    assert (event.get("Response"), event.get("Application"), event.get("Data"), event.get("Reason")) == \
        ("Success", "Wait", "1", "4"), event
    assert "Context" not in event and event["ActionID"] == "app"
    # ChannelId: the CRM's own id is the originated channel's Uniqueid.
    assert event["Uniqueid"] == "crm-call-4711", event
    result = phone.wait()
    assert result.rc == 0, "the originated phone was not hung up after the application\n" + result.describe()
# -- the events of a real call -------------------------------------------------------------------

class PanoramiskListener:
    """panoramisk on its own event loop in a thread, collecting every event."""

    def __init__(self, port: int, user=ADMIN):
        from panoramisk import Manager
        self.events: list[dict] = []
        self.loop = asyncio.new_event_loop()
        self.manager = Manager(loop=self.loop, host="127.0.0.1", port=port, username=user[0], secret=user[1],
                               ping_delay=60, reconnect_timeout=60)
        self.manager.register_event("*", lambda _m, event: self.events.append(dict(event)))
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.loop.call_soon_threadsafe(self.manager.connect)
        deadline = time.monotonic() + 5
        while not self.manager.authenticated and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.manager.authenticated

    def close(self):
        self.loop.call_soon_threadsafe(self.manager.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def call_events(events: list[dict]) -> list[dict]:
    return [e for e in events if e.get("Event") in ("Newchannel", "Newstate", "Hangup", "DialBegin", "DialEnd",
                                                     "BridgeEnter", "BridgeLeave", "Newexten")]


def test_each_library_receives_the_events_of_a_sipp_call(ami, procs, artifacts):
    from asterisk.ami import AMIClient
    from asterisk.manager import Manager as Pyst2

    pano = PanoramiskListener(ami.ami_port)
    pano_wall = PanoramiskListener(ami.ami_port, WALLBOARD)
    pyst_events: list[dict] = []
    pyst = Pyst2()
    pyst.connect("127.0.0.1", ami.ami_port)
    pyst.register_event("*", lambda event, _m: pyst_events.append({"Event": event.name, **event.headers}))
    pyst.login(*ADMIN)
    ami_events: list[dict] = []
    client = AMIClient(address="127.0.0.1", port=ami.ami_port, timeout=10)
    client.add_event_listener(lambda event, **_: ami_events.append({"Event": event.name, **event.keys}))
    assert not client.login(*ADMIN).response.is_error()
    try:
        port = netutil.free_port()
        reg = register(ami, procs, artifacts, "1002", port)
        assert reg.rc == 0, reg.describe()
        callee = start_callee(ami, procs, artifacts, "1002", port)
        uac = run_caller(ami, procs, artifacts, "1001", "1002", hold_ms=1000)
        uas = callee.wait(abandon=uac.rc != 0)
        assert uac.rc == 0 and uas.rc == 0, both(uac, uas)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(
                sum(e.get("Event") == "Hangup" for e in got) < 2 for got in (pano.events, pyst_events, ami_events)):
            time.sleep(0.1)
    finally:
        pano.close()
        pano_wall.close()
        close_pyst2(pyst)
        client.disconnect()
    for name, got in (("panoramisk", pano.events), ("pyst2", pyst_events), ("asterisk-ami", ami_events)):
        calls = call_events(got)
        new = [e for e in calls if e["Event"] == "Newchannel"]
        gone = [e for e in calls if e["Event"] == "Hangup"]
        assert [e["Channel"].split("-")[0] for e in new] == ["SIP/1001", "SIP/1002"], (name, calls)
        assert all(re.fullmatch(r"SIP/100[12]-[0-9a-f]{8}", e["Channel"]) for e in new), (name, new)
        assert len({e["Linkedid"] for e in new}) == 1 and new[0]["Linkedid"] == new[0]["Uniqueid"], (name, new)
        assert sorted(e["Uniqueid"] for e in gone) == sorted(e["Uniqueid"] for e in new), (name, calls)
        assert all(e["Cause"] == "16" and e["Cause-txt"] == "Normal Clearing" for e in gone), (name, gone)
        assert any(e["Event"] == "Newexten" for e in calls), (name, "read=all sees dialplan events")
        dial_end = [e for e in calls if e["Event"] == "DialEnd"]
        assert [e["Event"] for e in calls if e["Event"] in ("DialBegin", "DialEnd")] == ["DialBegin", "DialEnd"], (name, calls)
        assert dial_end[0]["DialStatus"] == "ANSWER" and dial_end[0]["DestChannel"] == new[1]["Channel"], (name, dial_end)
        entered = [e["Channel"] for e in calls if e["Event"] == "BridgeEnter"]
        # Asterisk 18 order (captured): the dialled channel enters the bridge first.
        assert entered == [new[1]["Channel"], new[0]["Channel"]], (name, entered)
    # read=call: the call's events, but no dialplan (Newexten/VarSet) or security events
    wall = pano_wall.events
    assert [e["Event"] for e in wall if e.get("Event") == "Newchannel"] == ["Newchannel", "Newchannel"], wall
    leaked = {e.get("Event") for e in wall} & {"Newexten", "VarSet", "SuccessfulAuth", "FullyBooted"}
    assert not leaked, f"a read=call user received {leaked}"


def test_channel_actions_during_a_call(ami, procs, artifacts):
    """While 1001 talks to 1002: CoreShowChannels, Status, Setvar/Getvar on the caller,
    ExtensionState-free checks, then Hangup of the callee by /regex/ with a cause."""
    from sipprunner import Sipp
    port = netutil.free_port()
    reg = register(ami, procs, artifacts, "1002", port)
    assert reg.rc == 0, reg.describe()
    callee = start_callee(ami, procs, artifacts, "1002", port)
    host, sip_port = ami.addr
    caller = Sipp(procs, artifacts, "uac_call_remote_bye.xml", local_port=netutil.free_port(), remote=ami.addr,
                  service="1002", auth=("1001", ami.users["1001"]), keys={"caller": "1001"},
                  extra=["-auth_uri", f"1002@{host}:{sip_port}"], timeout=30, tag="1001").start()
    c = Raw(ami.ami_port)
    c.login(events="off")
    deadline = time.monotonic() + 10
    items: list[dict] = []
    while time.monotonic() < deadline:
        c.action("CoreShowChannels", ActionID="csc")
        assert c.response()["Message"] == "Channels will follow"
        items = []
        while True:
            m = c.message()
            if m.get("Event") == "CoreShowChannelsComplete":
                assert int(m["ListItems"]) == len(items) and m["ActionID"] == "csc"
                break
            items.append(m)
        if len(items) == 2 and all(i["ChannelStateDesc"] == "Up" for i in items):
            break
        time.sleep(0.2)
    assert [i["Channel"].split("-")[0] for i in items] == ["SIP/1001", "SIP/1002"], items
    caller_name = items[0]["Channel"]
    assert items[0]["Application"] == "Dial" and re.fullmatch(r"\d\d:\d\d:\d\d", items[0]["Duration"]), items[0]
    assert items[0]["BridgeId"] == items[1]["BridgeId"]

    c.action("Status", Channel=caller_name, Variables="CRMID", ActionID="st")
    assert c.response()["Message"] == "Channel status will follow"
    status, complete = c.message(), c.message()
    assert status["Event"] == "Status" and status["Privilege"] == "Call" and status["Channel"] == caller_name, status
    assert (complete["Event"], complete["ListItems"], complete["Items"]) == ("StatusComplete", "1", "1"), complete
    c.action("Status", Channel="SIP/9999-00000000")
    assert c.response()["Message"] == "No such channel"

    c.action("Setvar", Channel=caller_name, Variable="CRMID", Value="42 x")
    assert c.response()["Message"] == "Variable Set"
    c.action("Getvar", Channel=caller_name, Variable="CRMID", ActionID="gv")
    assert c.response() == {"Response": "Success", "ActionID": "gv", "Variable": "CRMID", "Value": "42 x"}
    c.action("Getvar", Channel=caller_name, Variable="CALLERID(num)")
    assert c.response()["Value"] == "1001"
    c.action("Getvar", Channel="SIP/9999-00000000", Variable="X")
    assert c.response()["Message"] == "No such channel"

    c.action("Hangup", Channel="/^SIP/1002-/", Cause="16", ActionID="hu")
    assert c.response()["Message"] == "Channels hung up will follow"
    hung, done = c.message(), c.message()
    assert hung["Event"] == "ChannelHungup" and hung["Channel"] == items[1]["Channel"], hung
    assert done["Event"] == "ChannelsHungupListComplete" and done["ListItems"] == "1", done
    uac, uas = caller.wait(), callee.wait()
    assert uac.rc == 0 and uas.rc == 0, "Hangup of the callee did not end the call cleanly\n" + both(uac, uas)
    c.action("Hangup", Channel=caller_name)
    assert c.response()["Message"] == "No such channel"
    c.close()


def test_shutdown_event_then_the_session_closes(ami_stopped_by_test):
    """SIGTERM: a logged-in client gets `Event: Shutdown` and then the end of the connection,
    and pbxd stops without errors."""
    ami = ami_stopped_by_test
    c = Raw(ami.ami_port)
    assert c.login()["Response"] == "Success"
    code, killed = ami.stop()
    assert (code, killed) == (0, False), ami.log_tail(30)
    seen = []
    with contextlib.suppress(EOFError):
        while True:
            seen.append(c.message().get("Event"))
    assert "Shutdown" in seen, seen
    assert "ERROR" not in ami.log_text(), ami.log_tail(30)
    c.close()


def bridged_call(ami, procs, artifacts, callee_user: str, dialed: str):
    """1001 calls `dialed`, which reaches `callee_user` (a SIPp phone that answers); returns the
    callee's and caller's SIPp, a logged-in raw client, and the two bridged channel names by
    peer (`SIP/1001`, `SIP/<callee_user>`)."""
    from sipprunner import Sipp
    port = netutil.free_port()
    reg = register(ami, procs, artifacts, callee_user, port)
    assert reg.rc == 0, reg.describe()
    callee = start_callee(ami, procs, artifacts, callee_user, port)
    host, sip_port = ami.addr
    caller = Sipp(procs, artifacts, "uac_call_remote_bye.xml", local_port=netutil.free_port(), remote=ami.addr,
                  service=dialed, auth=("1001", ami.users["1001"]), keys={"caller": "1001"},
                  extra=["-auth_uri", f"{dialed}@{host}:{sip_port}"], timeout=30, tag="1001").start()
    c = Raw(ami.ami_port)
    c.login(events="off")
    deadline = time.monotonic() + 15
    names: dict[str, str] = {}
    while time.monotonic() < deadline and len(names) < 2:
        c.action("CoreShowChannels")
        c.response()
        names = {}
        while (m := c.message()).get("Event") != "CoreShowChannelsComplete":
            if m.get("BridgeId"):
                names[m["Channel"].split("-")[0]] = m["Channel"]
        time.sleep(0.2)
    assert set(names) == {"SIP/1001", f"SIP/{callee_user}"}, names
    return callee, caller, c, names


def test_blind_transfer_of_the_caller_and_play_dtmf(ami, procs, artifacts):
    """While 1001 talks to 1002, BlindTransfer on 1002's leg sends the caller 1001 to 4000 (Echo)
    and hangs 1002 up; PlayDTMF then sends a key to the caller (DTMFEnd, Direction Sent)."""
    callee, caller, c, names = bridged_call(ami, procs, artifacts, "1002", "1002")
    c.action("Events", EventMask="call")
    c.response()
    c.action("BlindTransfer", Channel=names["SIP/1002"], Exten="4000", Context="internal")
    reply, event = None, None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (reply is None or event is None):
        m = c.message()
        if m.get("Event") == "BlindTransfer":
            event = m
        elif "Response" in m and "Event" not in m:
            reply = m
    assert reply and reply["Message"] == "Transfer succeeded", reply
    # The BlindTransfer event (ami.md §10.6): who transferred whom, out of which bridge, where to.
    assert event, "no BlindTransfer event"
    assert (event["Result"], event["TransfererChannel"], event["TransfereeChannel"], event["Context"], event["Extension"],
            event["IsExternal"]) == ("Success", names["SIP/1002"], names["SIP/1001"], "internal", "4000", "No"), event
    assert event["BridgeUniqueid"] and event["Privilege"].startswith("call"), event
    assert wait_log(ami, r"Executing \[4000@internal:2\] Echo", 10), ami.log_tail(30)
    uas = callee.wait()
    assert uas.rc == 0, "the transferer (1002) was not hung up\n" + uas.describe()
    c.action("BlindTransfer", Channel=names["SIP/1001"], Exten="4000")
    assert c.response()["Message"].startswith("Transfer failed"), "a channel alone is not bridged"

    c.action("Events", EventMask="dtmf")
    c.response()
    c.action("PlayDTMF", Channel=names["SIP/1001"], Digit="5", Duration="200")
    assert c.response()["Message"] == "DTMF successfully queued"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        m = c.message()
        if m.get("Event") == "DTMFEnd":
            assert (m["Channel"], m["Digit"], m["Direction"]) == (names["SIP/1001"], "5", "Sent"), m
            break
    else:
        pytest.fail("no DTMFEnd for PlayDTMF")
    c.action("PlayDTMF", Channel=names["SIP/1001"], Digit="x")
    assert c.response()["Message"] == "No digit specified"

    c.action("Hangup", Channel=names["SIP/1001"])
    assert c.response()["Response"] == "Success"
    uac = caller.wait()
    assert uac.rc == 0, "the transferred caller did not end cleanly\n" + uac.describe()
    c.close()


def test_blind_transfer_of_a_queue_caller(ami, procs, artifacts):
    """A caller in queue 600 talks to agent 811; BlindTransfer on the agent's leg sends the
    caller to 4000 (Echo), hangs the agent up and logs BLINDTRANSFER in queue_log."""
    agent, caller, c, names = bridged_call(ami, procs, artifacts, "811", "600")
    c.action("BlindTransfer", Channel=names["SIP/811"], Exten="4000", Context="internal")
    assert c.response()["Message"] == "Transfer succeeded"
    assert wait_log(ami, r"Executing \[4000@internal:2\] Echo", 10), ami.log_tail(30)
    assert agent.wait().rc == 0, "the agent was not hung up"
    queue_log = ami.data_dir / "queue_log"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "BLINDTRANSFER" not in queue_log.read_text():
        time.sleep(0.1)
    line = next(l for l in queue_log.read_text().splitlines() if "|BLINDTRANSFER|" in l)
    assert re.search(r"\|600\|SIP/811\|BLINDTRANSFER\|4000\|internal\|\d+\|\d+\|1$", line), line
    c.action("Hangup", Channel=names["SIP/1001"])
    c.response()
    assert caller.wait().rc == 0
    c.close()


# -- queue actions (registered by ACD) through each library ---------------------------------------

def queue_lists_with_panoramisk(port: int) -> dict[str, list[dict]]:
    from panoramisk import Manager

    async def scenario():
        manager = Manager(host="127.0.0.1", port=port, username=ADMIN[0], secret=ADMIN[1], ping_delay=60, reconnect_timeout=60)
        await manager.connect()
        for _ in range(100):
            if manager.authenticated:
                break
            await asyncio.sleep(0.05)
        out = {}
        for action in ("QueueStatus", "QueueSummary"):
            out[action] = [dict(m) for m in await manager.send_action({"Action": action, "Queue": "600"})]
        out["QueuePause"] = [dict(await manager.send_action(
            {"Action": "QueuePause", "Queue": "600", "Interface": "SIP/811", "Paused": "true", "Reason": "lunch"}))]
        manager.close()
        return out

    return asyncio.run(asyncio.wait_for(scenario(), 20))


def queue_lists_with_asterisk_ami(port: int) -> dict[str, list[dict]]:
    from asterisk.ami import AMIClient, SimpleAction
    items: list = []
    client = AMIClient(address="127.0.0.1", port=port, timeout=10)
    client.add_event_listener(lambda event, **_: items.append({"Event": event.name, **event.keys}))
    try:
        assert not client.login(*ADMIN).response.is_error()
        out = {}
        for action, done in (("QueueStatus", "QueueStatusComplete"), ("QueueSummary", "QueueSummaryComplete")):
            items.clear()
            reply = client.send_action(SimpleAction(action, Queue="600")).response
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not any(i["Event"] == done for i in items):
                time.sleep(0.05)
            # The login's own events (SuccessfulAuth, FullyBooted) may still be arriving.
            out[action] = [{"Response": reply.status, **reply.keys}] + [
                dict(i) for i in items if i["Event"] not in ("SuccessfulAuth", "FullyBooted")]
        pause = client.send_action(SimpleAction("QueuePause", Queue="600", Interface="SIP/811", Paused="true", Reason="lunch"))
        out["QueuePause"] = [{"Response": pause.response.status, **pause.response.keys}]
        return out
    finally:
        client.disconnect()


@pytest.mark.parametrize("client", [queue_lists_with_panoramisk, queue_lists_with_asterisk_ami], ids=["panoramisk", "asterisk-ami"])
def test_queue_status_and_summary_lists(ami, client):
    out = client(ami.ami_port)
    status = out["QueueStatus"]
    assert status[0]["Response"] == "Success" and status[0]["EventList"] == "start", status[0]
    names = [m.get("Event") for m in status[1:]]
    assert names[0] == "QueueParams" and "QueueMember" in names and names[-1] == "QueueStatusComplete", names
    member = next(m for m in status if m.get("Event") == "QueueMember")
    assert member["Queue"] == "600" and member["Location"] == "SIP/811" and member["Membership"] == "static", member
    summary = out["QueueSummary"]
    assert [m.get("Event") for m in summary[1:]] == ["QueueSummary", "QueueSummaryComplete"], summary
    assert out["QueuePause"][0]["Message"] == "Interface paused successfully", out["QueuePause"]


def test_queue_actions_with_pyst2(ami):
    from asterisk.manager import Manager
    m = Manager()
    m.connect("127.0.0.1", ami.ami_port)
    try:
        m.login(*ADMIN)
        status = m.send_action({"Action": "QueueStatus", "Queue": "600"})
        assert status.get_header("Message") == "Queue status will follow"
        summary = m.send_action({"Action": "QueueSummary", "Queue": "600"})
        assert summary.get_header("Message") == "Queue summary will follow"
        added = m.send_action({"Action": "QueueAdd", "Queue": "600", "Interface": "SIP/812", "MemberName": "Bob"})
        assert added.get_header("Message") == "Added interface to queue"
        paused = m.send_action({"Action": "QueuePause", "Queue": "600", "Interface": "SIP/812", "Paused": "true"})
        assert paused.get_header("Message") == "Interface paused successfully"
        removed = m.send_action({"Action": "QueueRemove", "Queue": "600", "Interface": "SIP/812"})
        assert removed.get_header("Message") == "Removed interface from queue"
    finally:
        close_pyst2(m)
