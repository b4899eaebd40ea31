"""Recordings end to end: the CDR names them, queues make them, the CRM fetches them.

- test_recorded_call_is_in_the_cdr_and_its_link_serves_the_wav: 704 answers, MixMonitor, 2 s of
  the caller's 1 kHz tone, hangup. The SQLite `cdr` row's recordingfile names the WAV, which
  exists; call.ended (to this test's HTTP receiver) carries recording_url, which fetches exactly
  that file (GET; HEAD gives its length and no body); a tampered, an unsigned, an expired
  (signed here with the same secret) and a `..` link get 403; POST gets 405; /health says OK.
- test_ami_mixmonitor_records_and_names_the_cdr: AMI `MixMonitor` on the live channel of a call
  to 705 (answered, 4 s), `StopMixMonitor` 1.5 s later while the caller keeps sending its tone:
  the reply's MixMonitorID is the file, which holds about 1.5 s of the tone and is the CDR's
  recordingfile.
- test_mixmonitor_ogg_opus: MixMonitor(name.ogg) writes Ogg/Opus: opusdec (opus-tools) decodes
  it to the caller's 1 kHz tone, it is under a fifth of the WAV's size, and the HTTP port
  serves it as audio/ogg.
- test_queue_calls_are_recorded_with_both_parties: queue 600 with monitor-type = MixMonitor and
  monitor-format = wav; the caller sends 700 Hz, agent 811 sends 1000 Hz. The file is
  recordings/YYYY/MM/DD/<caller's uniqueid>.wav, holds both tones (measured) and is the CDR's
  recordingfile.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.request
import wave
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import netutil
from callhelpers import answered_call, running_pbxd, wait_log
from test_mixmonitor import drain, middle, tone_packets, tone_share
from test_ami import Raw, write_manager_conf
from test_queue import agent, queue_pbxd, queues_conf, tone, wait_queue_log, events
from rtputil import rtp_packet

SECRET = "link-s3cret-for-tests"
DIALPLAN = """\
exten => 706,1,Answer()
 same => n,MixMonitor(opus-${UNIQUEID}.ogg)
 same => n,NoOp(REC=${MIXMONITOR_FILENAME})
 same => n,Wait(2)
 same => n,Hangup()
exten => 705,1,Answer()
 same => n,Wait(4)
 same => n,Hangup()
exten => 704,1,Answer()
 same => n,MixMonitor(link-${UNIQUEID})
 same => n,NoOp(REC=${MIXMONITOR_FILENAME})
 same => n,Wait(2)
 same => n,Hangup()
"""


class Receiver:
    """The CRM: keeps every webhook body."""

    def __init__(self, port: int):
        self.bodies: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                receiver.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_event(self, name: str, timeout: float) -> dict | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for body in list(self.bodies):
                if body["event"] == name:
                    return body
            time.sleep(0.1)
        return None

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def http_section(port: int, hook_port: int | None = None) -> str:
    text = f"\n[http]\nenabled = yes\nbindaddr = 127.0.0.1\nport = {port}\nsecret = {SECRET}\nlinkttl = 600\n"
    if hook_port:
        text += f"\n[webhook crm]\nurl = http://127.0.0.1:{hook_port}/pbx\nsecret = hook\nevents = call.ended\nmaxbackoff = 1\n"
    return text


def raw_get(port: int, target: str, method: str = "GET") -> tuple[int, bytes]:
    """Sends the target as written (no client-side `..` folding); returns (status, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def sign(path: str, expires: int) -> str:
    return hmac.new(SECRET.encode(), f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()


def cdr_rows(pbxd, value: str, column: str = "uniqueid", timeout: float = 8) -> list[dict]:
    path = pbxd.data_dir / "pbxd.sqlite"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
            db.row_factory = sqlite3.Row
            try:
                rows = [dict(r) for r in db.execute(f"SELECT * FROM cdr WHERE {column} = ?", (value,))]
            except sqlite3.OperationalError:
                rows = []
            finally:
                db.close()
            if rows:
                return rows
        time.sleep(0.1)
    return []


HTTP_PORT = netutil.free_port()
HOOK_PORT = netutil.free_port()


@pytest.fixture
def link_pbxd(request, procs, artifacts):
    def prepare(inst):
        conf = inst.config_dir / "pbxd.conf"
        conf.write_text(conf.read_text() + http_section(HTTP_PORT, HOOK_PORT))
    yield from running_pbxd(request, procs, artifacts, extensions=DIALPLAN, prepare=prepare)


def record_tone_call(pbxd, cap, procs, artifacts, exten: str, extension: str, ssrc: int) -> Path:
    """Calls `exten` (which logs REC=<file> and runs MixMonitor), sends 2 s of a 1000 Hz tone,
    waits for the hangup and the recording's end; returns the recording's path."""
    uac, rtp, _, pbx_port = answered_call(pbxd, cap, procs, artifacts, exten, hold_ms=500)
    try:
        m = wait_log(pbxd, rf"REC=(\S+\.{extension})", 10)
        assert m, pbxd.log_tail(40)
        path = Path(m.group(1))
        start = time.monotonic()
        for i, pkt in enumerate(tone_packets(1000, ssrc, 100)):
            if uac.proc.poll() is not None:
                break
            try:
                rtp.sendto(pkt, ("127.0.0.1", pbx_port))
            except OSError:
                break
            drain(rtp)
            time.sleep(max(0.0, start + (i + 1) * 0.02 - time.monotonic()))
        assert uac.wait().rc == 0
    finally:
        rtp.close()
    assert wait_log(pbxd, r"MixMonitor stopped", 10), pbxd.log_tail(40)
    return path


def test_recorded_call_is_in_the_cdr_and_its_link_serves_the_wav(link_pbxd, procs, artifacts):
    pbxd, cap = link_pbxd
    receiver = Receiver(HOOK_PORT)
    try:
        status, body = raw_get(HTTP_PORT, "/health")
        assert (status, body) == (200, b"OK\n")
        path = record_tone_call(pbxd, cap, procs, artifacts, "704", "wav", ssrc=0xD4)
        assert path.exists() and path.stat().st_size > 44 + 8000, path
        uniqueid = path.stem[len("link-"):]

        rows = cdr_rows(pbxd, uniqueid)
        assert rows, f"no CDR row for {uniqueid}"
        assert rows[0]["recordingfile"] == str(path), rows[0]

        ended = receiver.wait_event("call.ended", 15)
        assert ended, "no call.ended webhook\n" + pbxd.log_tail(40)
        assert ended["data"]["recording_file"] == str(path)
        url = ended["data"]["recording_url"]
        assert url and url.startswith(f"http://127.0.0.1:{HTTP_PORT}/recordings/"), ended
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.status == 200 and response.headers["Content-Type"] == "audio/wav"
            fetched = response.read()
        assert fetched == path.read_bytes(), "the link did not serve the recording's bytes"
        target = url[len(f"http://127.0.0.1:{HTTP_PORT}"):]
        request = urllib.request.Request(url, method="HEAD")
        with urllib.request.urlopen(request, timeout=5) as response:
            assert int(response.headers["Content-Length"]) == len(fetched) and response.read() == b""

        relative = str(path.relative_to(pbxd.data_dir / "recordings"))
        base, _, query = target.partition("?")
        expires = int(dict(p.split("=") for p in query.split("&"))["expires"])
        sig = dict(p.split("=") for p in query.split("&"))["sig"]
        assert sig == sign(relative, expires), "pbxd's signature is not HMAC-SHA256(secret, path\\nexpires)"
        past = int(time.time()) - 1
        refused = {
            "tampered": f"{base}?expires={expires}&sig={sig[:-1]}{'0' if sig[-1] != '0' else '1'}",
            "longer": f"{base}?expires={expires + 1}&sig={sig}",
            "unsigned": base,
            "expired": f"{base}?expires={past}&sig={sign(relative, past)}",
            "dotdot": f"/recordings/{relative.split('/')[0]}/../../pbxd.sqlite?expires={expires}"
                      f"&sig={sign(relative.split('/')[0] + '/../../pbxd.sqlite', expires)}",
            "encoded": f"/recordings/%2e%2e/pbxd.sqlite?expires={expires}&sig={sign('../pbxd.sqlite', expires)}",
        }
        for why, bad in refused.items():
            status, _ = raw_get(HTTP_PORT, bad)
            assert status == 403, f"{why} link got {status}"
        fresh = int(time.time()) + 60
        assert raw_get(HTTP_PORT, f"{base}?expires={fresh}&sig={sign(relative, fresh)}")[0] == 200
        assert raw_get(HTTP_PORT, target, method="POST")[0] == 405
        missing = "2000/01/01/none.wav"
        assert raw_get(HTTP_PORT, f"/recordings/{missing}?expires={fresh}&sig={sign(missing, fresh)}")[0] == 404
    finally:
        receiver.close()


def test_mixmonitor_ogg_opus(link_pbxd, procs, artifacts):
    pbxd, cap = link_pbxd
    path = record_tone_call(pbxd, cap, procs, artifacts, "706", "ogg", ssrc=0xF6)
    decoded = artifacts / "opus-decoded.wav"
    out = subprocess.run(["opusdec", "--quiet", "--rate", "8000", str(path), str(decoded)], capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr.decode()
    with wave.open(str(decoded)) as w:
        seconds = w.getnframes() / w.getframerate()
    assert 1.5 <= seconds <= 2.6, f"{seconds:.2f} s decoded"
    share = tone_share(middle(decoded, 0.5), 1000)
    print(f"ogg/opus: {path.stat().st_size} bytes for {seconds:.2f} s (WAV: {int(44 + seconds * 16000)}); 1 kHz share {share:.2f}")
    assert share > 0.8, f"the decoded Opus recording is not the caller's tone (share {share:.2f})"
    assert path.stat().st_size * 5 < 44 + seconds * 16000
    relative = str(path.relative_to(pbxd.data_dir / "recordings"))
    fresh = int(time.time()) + 60
    with socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=5) as s:
        s.sendall(f"HEAD /recordings/{relative}?expires={fresh}&sig={sign(relative, fresh)} HTTP/1.1\r\nHost: x\r\n"
                  "Connection: close\r\n\r\n".encode())
        head = s.recv(4096).decode()
    assert head.startswith("HTTP/1.1 200") and "content-type: audio/ogg" in head.lower(), head


@pytest.fixture
def ami_pbxd(request, procs, artifacts):
    def prepare(inst):
        write_manager_conf(inst)
    gen = running_pbxd(request, procs, artifacts, extensions=DIALPLAN, prepare=prepare)
    inst, cap = next(gen)
    yield inst, cap
    netutil.release(inst.ami_port, inst.ami_port)
    yield from gen


def test_ami_mixmonitor_records_and_names_the_cdr(ami_pbxd, procs, artifacts):
    pbxd, cap = ami_pbxd
    deadline = time.monotonic() + 10
    while True:
        try:
            ami = Raw(pbxd.ami_port)
            break
        except OSError:
            assert time.monotonic() < deadline, "manager port never opened\n" + pbxd.log_tail(40)
            time.sleep(0.1)
    try:
        assert ami.login()["Response"] == "Success"
        uac, rtp, _, pbx_port = answered_call(pbxd, cap, procs, artifacts, "705", hold_ms=500)
        try:
            channel = None
            while channel is None:
                m = ami.message()
                if m.get("Event") == "Newchannel" and m.get("Channel", "").startswith("SIP/1001-"):
                    channel = m["Channel"]
            ami.action("MixMonitor", Channel=channel, File=f"ami-{time.time_ns()}")
            reply = ami.response()
            assert reply["Response"] == "Success", reply
            path = Path(reply["MixMonitorID"])
            packets = tone_packets(1000, 0xE5, 150)
            start = time.monotonic()
            stopped = False
            for i, pkt in enumerate(packets):
                if not stopped and time.monotonic() - start >= 1.5:
                    ami.action("StopMixMonitor", Channel=channel)
                    assert ami.response()["Response"] == "Success"
                    stopped = True
                rtp.sendto(pkt, ("127.0.0.1", pbx_port))
                drain(rtp)
                time.sleep(max(0.0, start + (i + 1) * 0.02 - time.monotonic()))
            assert stopped
            assert uac.wait().rc == 0
        finally:
            rtp.close()
    finally:
        ami.close()
    assert path.exists(), path
    with wave.open(str(path)) as w:
        seconds = w.getnframes() / 8000
    assert 1.0 <= seconds <= 2.1, f"StopMixMonitor after 1.5 s left {seconds:.2f} s"
    assert tone_share(middle(path, 0.5), 1000) > 0.8
    rows = cdr_rows(pbxd, channel, column="channel")
    assert rows and rows[0]["recordingfile"] == str(path), rows


@pytest.fixture
def recorded_queue_pbxd(request, procs, artifacts):
    yield from queue_pbxd(request, procs, artifacts,
                          "[general]\nmonitor-type = MixMonitor\n\n"
                          + queues_conf(members=("811",), extra="monitor-format = wav\n"))


def test_queue_calls_are_recorded_with_both_parties(recorded_queue_pbxd, procs, artifacts):
    pbxd, cap = recorded_queue_pbxd
    agent_rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    agent_rtp.bind(("127.0.0.1", netutil.free_port(tcp=False)))
    agent_rtp.settimeout(0.002)
    uas = agent(pbxd, procs, artifacts, "811", scenario="queue_uas_rtp_hangup.xml", hold_ms=4000,
                keys={"rtp_port": str(agent_rtp.getsockname()[1])})
    uac, rtp, _, pbx_port = answered_call(pbxd, cap, procs, artifacts, "600", timeout=30, socket_timeout=0.002)
    agent_peer = None
    start = time.monotonic()
    k = 0
    while time.monotonic() - start < 5:
        rtp.sendto(rtp_packet(k + 1, 0x1001, tone(k, 700)), ("127.0.0.1", pbx_port))
        if agent_peer:
            agent_rtp.sendto(rtp_packet(k + 1, 0x811, tone(k, 1000)), agent_peer)
        k += 1
        while time.monotonic() < start + k * 0.02:
            for sock in (rtp, agent_rtp):
                try:
                    _, src = sock.recvfrom(2048)
                except (socket.timeout, BlockingIOError):
                    continue
                if sock is agent_rtp:
                    agent_peer = src
    result = uac.wait()
    uas.wait()
    rtp.close()
    agent_rtp.close()
    assert result.rc == 0, result.describe()
    lines = wait_queue_log(pbxd, lambda ls: events(ls, "COMPLETEAGENT"), 5)
    assert [l[4] for l in lines] == ["ENTERQUEUE", "CONNECT", "COMPLETEAGENT"], lines
    uniqueid = lines[0][1]
    assert wait_log(pbxd, r"MixMonitor stopped", 10), pbxd.log_tail(40)
    path = pbxd.data_dir / "recordings" / datetime.now().strftime("%Y/%m/%d") / f"{uniqueid}.wav"
    assert path.exists(), f"{path} missing\n" + pbxd.log_tail(40)
    mixed = middle(path)
    shares = (tone_share(mixed, 700), tone_share(mixed, 1000))
    print(f"queue recording: 700 Hz share {shares[0]:.2f}, 1000 Hz share {shares[1]:.2f}")
    assert shares[0] > 0.3 and shares[1] > 0.3, f"the queue recording lacks a party: shares (caller, agent) = {shares}"
    rows = cdr_rows(pbxd, uniqueid)
    assert rows and all(r["recordingfile"] == str(path) for r in rows), rows
    # The queue call's record as Asterisk writes it: the caller's leg, the agent as dstchannel,
    # Queue as the last application, answered, with talk time.
    answered = [r for r in rows if r["disposition"] == "ANSWERED"]
    assert len(answered) == 1, rows
    row = answered[0]
    assert (row["dst"], row["lastapp"]) == ("600", "Queue"), row
    assert row["channel"].startswith("SIP/1001-") and row["dstchannel"].startswith("SIP/811-"), row
    assert row["src"] == "1001" and row["linkedid"] == uniqueid and int(row["billsec"]) >= 2, row
