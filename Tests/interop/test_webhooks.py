"""CRM webhooks end to end: a local HTTP receiver (this test's) gets pbxd's signed POSTs.

pbxd on this branch publishes AGI's AGIExecStart/AGIExecEnd on its event bus (call events come
from the events work), so the webhook subscribes to those raw events (`ami.AGIExec*`) and calls
into a FastAGI server drive them: each call runs `NOOP <n>` for a known list of n.

test_webhooks_survive_receiver_outage_and_restart:
1. receiver up: call 1 (NOOP 1-3): six events arrive, in order, each with a valid
   `X-Pbxd-Signature` (HMAC-SHA256 of the body) and `X-Pbxd-Delivery` equal to the body's id;
2. receiver stopped for 30 s while call 2 (NOOP 4-6) happens; started again: its six events arrive;
3. receiver stopped, call 3 (NOOP 7-9), pbxd stopped (SIGTERM) and started on the same data
   directory, receiver started: call 3's events arrive too;
4. in the end every event arrived exactly once (by id), NOOP 1-9 in order.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from agiserver import FastAGIServer
from callhelpers import answered_call, running_pbxd, wait_log
from netutil import free_port

AGI_PORT = free_port()
HOOK_PORT = free_port()
SECRET = "crm-s3cret"

DIALPLAN = f"""\
exten => 530,1,Answer()
 same => n,AGI(agi://127.0.0.1:{AGI_PORT}/hook)
 same => n,Hangup()
"""


class Receiver:
    """The CRM: an HTTP server on HOOK_PORT that can be stopped and started; keeps every POST."""

    def __init__(self):
        self.posts: list[tuple[dict, bytes]] = []
        self.lock = threading.Lock()
        self.server = None

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", HOOK_PORT), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def commands(self) -> list[str]:
        with self.lock:
            return [json.loads(body)["data"]["Command"] for _, body in self.posts]

    def wait_for(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.posts) >= count:
                    return True
            time.sleep(0.1)
        return False


@pytest.fixture
def hook_pbxd(request, procs, artifacts):
    def add_webhook(inst):
        conf = inst.config_dir / "pbxd.conf"
        conf.write_text(conf.read_text() + f"""
[webhook crm]
url = http://127.0.0.1:{HOOK_PORT}/pbx/events
secret = {SECRET}
events = ami.AGIExecStart, ami.AGIExecEnd
maxbackoff = 2
timeout = 2
""")
    yield from running_pbxd(request, procs, artifacts, extensions=DIALPLAN, prepare=add_webhook)


def agi_call(pbxd, cap, procs, artifacts, numbers: list[int]) -> None:
    """One call whose AGI runs NOOP n for each n, then ends the session (pbxd hangs up)."""
    def script(agi):
        agi.env()
        for n in numbers:
            assert agi.cmd(f"NOOP {n}") == "200 result=0"

    server = FastAGIServer(AGI_PORT, script)
    try:
        uac, rtp, _, _ = answered_call(pbxd, cap, procs, artifacts, "530")
        try:
            server.check()
            assert uac.wait().rc == 0
        finally:
            rtp.close()
    finally:
        server.close()


def expected(numbers: list[int]) -> list[str]:
    return [c for n in numbers for c in (f"NOOP {n}", f"NOOP {n}")]


def test_webhooks_survive_receiver_outage_and_restart(hook_pbxd, procs, artifacts):
    pbxd, cap = hook_pbxd
    crm = Receiver()
    crm.start()
    try:
        agi_call(pbxd, cap, procs, artifacts, [1, 2, 3])
        assert crm.wait_for(6, 10), f"got {crm.commands()}\n" + pbxd.log_tail(30)

        crm.stop()
        agi_call(pbxd, cap, procs, artifacts, [4, 5, 6])
        time.sleep(30)
        assert len(crm.posts) == 6
        crm.start()
        assert crm.wait_for(12, 15), f"after the outage got {crm.commands()}\n" + pbxd.log_tail(30)

        crm.stop()
        agi_call(pbxd, cap, procs, artifacts, [7, 8, 9])
        assert wait_log(pbxd, r"webhook unreachable", 10), pbxd.log_tail(30)
        pbxd.stop()
        pbxd.start()
        crm.start()
        assert crm.wait_for(18, 15), f"after the restart got {crm.commands()}\n" + pbxd.log_tail(30)
        time.sleep(1.5)  # nothing more may come
    finally:
        crm.stop()

    ids = []
    names = []
    for headers, body in crm.posts:
        event = json.loads(body)
        want = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["x-pbxd-signature"] == "sha256=" + want, headers
        assert headers["x-pbxd-delivery"] == event["id"] and headers["x-pbxd-event"] == event["event"]
        assert headers["content-type"] == "application/json"
        ids.append(event["id"])
        names.append(event["event"])
    assert len(ids) == len(set(ids)) == 18, f"{len(ids)} posts, {len(set(ids))} distinct ids"
    assert names == ["ami.AGIExecStart", "ami.AGIExecEnd"] * 9, names
    assert crm.commands() == expected(list(range(1, 10))), crm.commands()
