"""ACD queues over real calls: pbxd runs queues.conf queues; agents are SIPp UAS registered
as 811-813 (some with the test's own socket as their RTP), callers are SIPp UACs. What is
checked comes from the wire and from <datadir>/queue_log (and its copy in pbxd.sqlite):
- the caller's audio between the agent's answer and the bridge is the agent-id prompt and
  the agent's digits, byte for byte as sounds/en encodes to µ-law; then the agent's tone
  reaches the caller and the caller's the agent;
- strategies pick the agents they should, a paused agent never rings, wrap-up holds the
  next call back, an unanswered agent times out and the next rings;
- abandon, timeout and joinempty overflow are logged and routed as Asterisk does;
- a second caller hears its position; hot-desking feature codes change who rings;
- ten callers with four agents are all served, the waiting ones in arrival order."""
from __future__ import annotations

import math
import re
import socket
import sqlite3
import time
import wave
from pathlib import Path

import pytest

import netutil
from audio import goertzel_power
from callhelpers import answered_call, callee, caller, configure, register, running_pbxd, wait_log, wait_sip
from sipphelpers import sdp_media
from pbxdproc import REPO
from rtputil import rtp_packet, silence, ulaw, ulaw_decode

AGENT_PASSWORDS = {"813": "pw-813-Qa5", "823": "pw-823-Lc8"}

QUEUE_DIALPLAN = """\
exten => 600,1,Answer()
 same => n,Queue(600,,,,20)
 same => n,NoOp(QUEUESTATUS=${QUEUESTATUS})
 same => n,Hangup()
exten => 601,1,Answer()
 same => n,Queue(601,,,,10)
 same => n,NoOp(overflow QUEUESTATUS=${QUEUESTATUS})
 same => n,Dial(SIP/1002,10)
 same => n,Hangup()
exten => 602,1,Answer()
 same => n,Queue(602,,,,2)
 same => n,NoOp(QUEUESTATUS=${QUEUESTATUS})
 same => n,Hangup()
exten => 603,1,Answer()
 same => n,Queue(603,,,,5)
 same => n,Hangup()
exten => 7001,1,Answer()
 same => n,PauseQueueMember(600,SIP/811,,lunch)
 same => n,NoOp(PQMSTATUS=${PQMSTATUS})
 same => n,Hangup()
exten => _*45.,1,AgentHotDeskLogin(${EXTEN:3})
 same => n,NoOp(AGENTSTATUS=${AGENTSTATUS})
 same => n,Hangup()
exten => *46,1,AgentHotDeskLogout()
 same => n,Hangup()
exten => *47,1,AgentHotDeskPause()
 same => n,NoOp(AGENTSTATUS=${AGENTSTATUS})
 same => n,Hangup()
"""


def queue_pbxd(request, procs, artifacts, queues: str, also=None):
    """A pbxd with agents 811-813, the queue dialplan above in [internal], `queues` as
    queues.conf and the repository's sounds/; `also(inst)` adds more configuration first."""
    def prepare(inst):
        # Rewriting sip.conf with the extra agents rewrites every file: keep pbxd.conf's soundsdir.
        settings = (inst.config_dir / "pbxd.conf").read_text()
        inst.users.update(AGENT_PASSWORDS)
        inst.write_config()
        (inst.config_dir / "pbxd.conf").write_text(settings)
        configure(inst, extensions=QUEUE_DIALPLAN)
        if also:
            also(inst)
        (inst.config_dir / "queues.conf").write_text(queues)
    yield from running_pbxd(request, procs, artifacts, sounds=True, prepare=prepare)


def queue_log(pbxd) -> list[list[str]]:
    path = pbxd.data_dir / "queue_log"
    return [line.split("|") for line in path.read_text().splitlines()] if path.exists() else []


def wait_queue_log(pbxd, predicate, timeout: float) -> list[list[str]]:
    deadline = time.monotonic() + timeout
    while True:
        lines = queue_log(pbxd)
        if predicate(lines) or time.monotonic() >= deadline:
            return lines
        time.sleep(0.1)


def queue_log_table(pbxd) -> list[tuple]:
    """The queue_log table of <datadir>/pbxd.sqlite (Asterisk's realtime columns), in order."""
    db = sqlite3.connect(f"file:{pbxd.data_dir / 'pbxd.sqlite'}?mode=ro", uri=True, timeout=5)
    try:
        return db.execute("SELECT time, callid, queuename, agent, event, data1, data2, data3, data4, data5"
                          " FROM queue_log ORDER BY id").fetchall()
    finally:
        db.close()


def assert_table_matches_file(pbxd, lines: list[list[str]]) -> None:
    """Every queue_log line is also a row: same fields, data split into data1..data5, and
    `time` the line's second as local `YYYY-MM-DD HH:MM:SS.uuuuuu`."""
    deadline = time.monotonic() + 5
    while len(rows := queue_log_table(pbxd)) < len(lines) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(rows) == len(lines), (rows, lines)
    for row, line in zip(rows, lines):
        stamp = row[0]
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", stamp), row
        assert int(time.mktime(time.strptime(stamp[:19], "%Y-%m-%d %H:%M:%S"))) == int(line[0]), (row, line)
        assert list(row[1:5]) == line[1:5], (row, line)
        assert list(row[5:]) == (line[5:] + [""] * 5)[:5], (row, line)


def events(lines, name):
    return [line for line in lines if line[4] == name]


def agent(pbxd, procs, artifacts, user, *, scenario="uas_answer_hangup.xml", calls=1, hold_ms=1500, keys=None, timeout=40):
    port = netutil.free_port(tcp=False)
    reg = register(pbxd, procs, artifacts, user, port)
    assert reg.rc == 0, reg.describe()
    return callee(pbxd, procs, artifacts, user, port, scenario, calls=calls, hold_ms=hold_ms, keys=keys, timeout=timeout)


def call(pbxd, procs, artifacts, exten="600", *, user="1001", scenario="call_uac_wait_bye.xml", hold_ms=1000, timeout=40, tag=""):
    # Callers that hang up themselves (call_uac_rtp) name an RTP port nobody reads.
    return caller(pbxd, procs, artifacts, user, exten, scenario, hold_ms=hold_ms, timeout=timeout, tag=tag,
                  keys={"rtp_port": str(netutil.free_port(tcp=False))}).start()


def queues_conf(strategy="linear", members=("811", "812", "813"), extra=""):
    lines = "".join(f"member => SIP/{m}\n" for m in members)
    return f"[600]\nstrategy = {strategy}\ntimeout = 3\nretry = 1\n{extra}\n{lines}"


# -- audio --------------------------------------------------------------------------------------

def prompt_codes(name: str) -> bytes:
    """The µ-law bytes pbxd sends for sounds/en/<name>.wav."""
    with wave.open(str(REPO / "sounds" / "en" / f"{name}.wav"), "rb") as w:
        assert w.getframerate() == 8000 and w.getsampwidth() == 2 and w.getnchannels() == 1
        raw = w.readframes(w.getnframes())
    samples = [int.from_bytes(raw[i:i + 2], "little", signed=True) for i in range(0, len(raw), 2)]
    return bytes(ulaw(s) for s in samples)


def find_prompt(stream: bytes, name: str, start: int = 0, skip: int = 0) -> int:
    """Where 400 bytes of the prompt's audible part, `skip` bytes in, are in `stream` (an
    exact match), or -1."""
    codes = prompt_codes(name).strip(b"\xff\x7f")
    return stream.find(codes[skip:skip + 400], start)


def caller_with_rtp(pbxd, cap, procs, artifacts, exten: str, scenario: str = "ivr_uac_rtp_wait_bye.xml", hold_ms: int = 1000):
    """A caller (1001) into `exten` whose RTP is a socket of the test; returns (uac, socket,
    pbxd's RTP port for it) once pbxd answered this very call (other calls may be up).
    `scenario` waits for pbxd's BYE, or (call_uac_rtp.xml) hangs up after `hold_ms`."""
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp.bind(("127.0.0.1", netutil.free_port(tcp=False)))
    rtp.settimeout(0.02)
    port = netutil.free_port(tcp=False)
    uac = caller(pbxd, procs, artifacts, "1001", exten, scenario, local_port=port, timeout=30, hold_ms=hold_ms,
                 keys={"rtp_port": str(rtp.getsockname()[1])}, tag=f"rtp-{port}").start()
    ok = wait_sip(cap, lambda s, d, t: s == pbxd.sip_port and d == port and t.startswith("SIP/2.0 200") and "m=audio" in t, 10)
    assert ok, f"pbxd did not answer the call to {exten}\n" + pbxd.log_tail()
    return uac, rtp, sdp_media(ok[2])[1]


def tone(index: int, freq: float) -> bytes:
    return bytes(ulaw(int(8000 * math.sin(2 * math.pi * freq * (index * 160 + i) / 8000))) for i in range(160))


@pytest.fixture
def audio_pbxd(request, procs, artifacts):
    yield from queue_pbxd(request, procs, artifacts, queues_conf(members=("811",), extra="announce-agent-id = yes\nagent-id-prompt = agent-id\n"))


def test_caller_hears_the_agent_id_then_both_hear_each_other(audio_pbxd, procs, artifacts):
    pbxd, cap = audio_pbxd
    agent_rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    agent_rtp.bind(("127.0.0.1", netutil.free_port(tcp=False)))
    agent_rtp.settimeout(0.002)
    uas = agent(pbxd, procs, artifacts, "811", scenario="queue_uas_rtp_hangup.xml", hold_ms=6000,
                keys={"rtp_port": str(agent_rtp.getsockname()[1])})
    uac, rtp, _, pbx_port = answered_call(pbxd, cap, procs, artifacts, "600", timeout=30, socket_timeout=0.002)
    to_caller: list[bytes] = []
    to_agent: list[bytes] = []
    agent_peer = None
    start = time.monotonic()
    k = 0
    while time.monotonic() - start < 6.5:
        rtp.sendto(rtp_packet(k + 1, 0x1001, tone(k, 700)), ("127.0.0.1", pbx_port))
        if agent_peer:
            agent_rtp.sendto(rtp_packet(k + 1, 0x811, tone(k, 1000)), agent_peer)
        k += 1
        while time.monotonic() < start + k * 0.02:
            for sock, sink in ((rtp, to_caller), (agent_rtp, to_agent)):
                try:
                    pkt, src = sock.recvfrom(2048)
                except (socket.timeout, BlockingIOError):
                    continue
                if sock is agent_rtp:
                    agent_peer = src
                if (pkt[1] & 0x7F) == 0:
                    sink.append(pkt)
    result = uac.wait()
    uas.wait()
    rtp.close()
    agent_rtp.close()
    assert result.rc == 0, result.describe()
    stream = b"".join(p[12:] for p in to_caller)
    positions = []
    at = 0
    for name in ("agent-id", "digits/8", "digits/1", "digits/1"):
        at = find_prompt(stream, name, at)
        assert at >= 0, f"{name} not found in the caller's audio after {positions}\n" + pbxd.log_tail()
        positions.append(at)
        at += 400
    # The agent's tone arrives after the last digit, and not before the agent-id prompt.
    before = [float(ulaw_decode(b)) for b in stream[:positions[0]]]
    after = [float(ulaw_decode(b)) for b in stream[positions[-1] + len(prompt_codes("digits/1")):][-8000:]]
    assert len(after) >= 4000, "no audio after the announcement"
    assert goertzel_power(after, 8000, 1000) > 100 * goertzel_power(after, 8000, 1300), "the agent's 1 kHz tone did not reach the caller"
    assert not before or goertzel_power(before, 8000, 1000) < 1e-3 * goertzel_power(after, 8000, 1000), "agent audio before the agent-id prompt"
    heard = [float(ulaw_decode(b)) for p in to_agent[-100:] for b in p[12:]]
    assert heard and goertzel_power(heard, 8000, 700) > 100 * goertzel_power(heard, 8000, 1300), "the caller's tone did not reach the agent"
    lines = wait_queue_log(pbxd, lambda ls: events(ls, "COMPLETEAGENT"), 5)
    assert [l[4] for l in lines] == ["ENTERQUEUE", "CONNECT", "COMPLETEAGENT"], lines


# -- routing -----------------------------------------------------------------------------------

@pytest.mark.parametrize("strategy,expected", [
    ("leastrecent", ["SIP/811", "SIP/812", "SIP/813", "SIP/811"]),
    ("rrmemory", ["SIP/811", "SIP/812", "SIP/813", "SIP/811"]),
])
def test_strategy_picks_the_right_agents(request, procs, artifacts, strategy, expected):
    for pbxd, _ in queue_pbxd(request, procs, artifacts, queues_conf(strategy)):
        agents = [agent(pbxd, procs, artifacts, u, calls=2, hold_ms=300) for u in ("811", "812", "813")]
        for n in range(4):
            uac = call(pbxd, procs, artifacts, tag=f"c{n}")
            res = uac.wait()
            assert res.rc == 0, res.describe()
            wait_queue_log(pbxd, lambda ls: len(events(ls, "COMPLETEAGENT")) > n, 5)
        connected = [l[3] for l in events(queue_log(pbxd), "CONNECT")]
        assert connected == expected, queue_log(pbxd)
        for a in agents:
            a.proc.terminate()


@pytest.fixture
def three_agent_pbxd(request, procs, artifacts):
    yield from queue_pbxd(request, procs, artifacts, queues_conf(extra="wrapuptime = 3\n"))


def test_paused_agent_never_rings(three_agent_pbxd, procs, artifacts):
    pbxd, _ = three_agent_pbxd
    a811 = agent(pbxd, procs, artifacts, "811", timeout=10)
    a812 = agent(pbxd, procs, artifacts, "812", hold_ms=500)
    pause = call(pbxd, procs, artifacts, "7001", user="1002", tag="pause")
    assert pause.wait().rc == 0
    assert wait_log(pbxd, r"PQMSTATUS=PAUSED", 5), pbxd.log_tail()
    res = call(pbxd, procs, artifacts).wait()
    assert res.rc == 0, res.describe()
    lines = wait_queue_log(pbxd, lambda ls: events(ls, "COMPLETEAGENT"), 5)
    assert [l[3] for l in events(lines, "CONNECT")] == ["SIP/812"], lines
    assert ["NONE", "600", "SIP/811", "PAUSE", "lunch"] == events(lines, "PAUSE")[0][1:], lines
    assert not a811.wait(abandon=True).received("INVITE"), "the paused agent was rung"
    a812.wait()


def test_wrapup_is_respected(three_agent_pbxd, procs, artifacts):
    pbxd, _ = three_agent_pbxd
    a811 = agent(pbxd, procs, artifacts, "811", calls=2, hold_ms=300)
    first = call(pbxd, procs, artifacts, tag="first")
    assert first.wait().rc == 0
    done = time.monotonic()
    second = call(pbxd, procs, artifacts, tag="second")
    assert second.wait().rc == 0
    lines = wait_queue_log(pbxd, lambda ls: len(events(ls, "CONNECT")) == 2, 5)
    connects = events(lines, "CONNECT")
    assert [l[3] for l in connects] == ["SIP/811", "SIP/811"], lines
    # The second caller waited out 811's 3 s wrap-up (no one else is registered).
    assert int(connects[1][5]) >= 2, f"second caller held only {connects[1][5]} s\n{lines}"
    assert time.monotonic() - done >= 3
    a811.wait()


def test_unanswered_agent_times_out_and_the_next_rings(three_agent_pbxd, procs, artifacts):
    pbxd, _ = three_agent_pbxd
    a811 = agent(pbxd, procs, artifacts, "811", scenario="uas_ring_no_answer.xml", timeout=15)
    a812 = agent(pbxd, procs, artifacts, "812", hold_ms=500)
    res = call(pbxd, procs, artifacts).wait()
    assert res.rc == 0, res.describe()
    lines = wait_queue_log(pbxd, lambda ls: events(ls, "COMPLETEAGENT"), 5)
    rna = events(lines, "RINGNOANSWER")
    assert rna and rna[0][3] == "SIP/811" and 2500 <= int(rna[0][5]) <= 4500, lines
    assert [l[3] for l in events(lines, "CONNECT")] == ["SIP/812"], lines
    assert [l[4] for l in lines] == ["ENTERQUEUE", "RINGNOANSWER", "CONNECT", "COMPLETEAGENT"], lines
    assert_table_matches_file(pbxd, lines)
    a811.wait(abandon=True)
    a812.wait()


def test_ringall_first_answer_wins_the_others_are_cancelled(request, procs, artifacts):
    for pbxd, _ in queue_pbxd(request, procs, artifacts, queues_conf("ringall", members=("811", "812"), extra="timeout = 10\n")):
        a811 = agent(pbxd, procs, artifacts, "811", hold_ms=500)
        a812 = agent(pbxd, procs, artifacts, "812", scenario="uas_ring_no_answer.xml", timeout=15)
        res = call(pbxd, procs, artifacts).wait()
        assert res.rc == 0, res.describe()
        lines = wait_queue_log(pbxd, lambda ls: events(ls, "COMPLETEAGENT"), 5)
        assert [l[3] for l in events(lines, "CONNECT")] == ["SIP/811"], lines
        assert not events(lines, "RINGNOANSWER"), "the member stopped for the winner counted as a missed ring"
        rung = a812.wait()
        assert rung.rc == 0 and rung.received("CANCEL"), rung.describe()
        a811.wait()


def test_abandon_and_timeout_are_logged(request, procs, artifacts):
    queues = queues_conf(members=()) + "\n"
    for pbxd, _ in queue_pbxd(request, procs, artifacts, queues):
        res = call(pbxd, procs, artifacts, scenario="call_uac_rtp.xml", hold_ms=1500, tag="abandon").wait()
        assert res.rc == 0, res.describe()
        lines = wait_queue_log(pbxd, lambda ls: events(ls, "ABANDON"), 5)
        enter, abandon = events(lines, "ENTERQUEUE")[0], events(lines, "ABANDON")[0]
        assert enter[2:] == ["600", "NONE", "ENTERQUEUE", "", "1001", "1"], lines
        assert abandon[1] == enter[1] and abandon[3:7] == ["NONE", "ABANDON", "1", "1"] and int(abandon[7]) in (1, 2), lines


def test_timeout_and_joinempty_overflow(request, procs, artifacts):
    queues = "[600]\nmember => SIP/811\n\n[601]\njoinempty = no\n\n[602]\nmember => SIP/811\n"
    for pbxd, _ in queue_pbxd(request, procs, artifacts, queues):
        res = call(pbxd, procs, artifacts, "602", tag="timeout").wait()
        assert res.rc == 0, res.describe()
        assert wait_log(pbxd, r"QUEUESTATUS=TIMEOUT", 5), pbxd.log_tail()
        timeout = events(wait_queue_log(pbxd, lambda ls: events(ls, "EXITWITHTIMEOUT"), 5), "EXITWITHTIMEOUT")
        assert timeout and timeout[0][2:7] == ["602", "NONE", "EXITWITHTIMEOUT", "1", "1"] and int(timeout[0][7]) in (2, 3), queue_log(pbxd)
        port = netutil.free_port(tcp=False)
        assert register(pbxd, procs, artifacts, "1002", port).rc == 0
        operator = callee(pbxd, procs, artifacts, "1002", port, "uas_answer_hangup.xml", hold_ms=300)
        res = call(pbxd, procs, artifacts, "601", tag="empty").wait()
        assert res.rc == 0, res.describe()
        assert wait_log(pbxd, r"overflow QUEUESTATUS=JOINEMPTY", 5), pbxd.log_tail()
        assert operator.wait().rc == 0
        assert not [l for l in events(queue_log(pbxd), "ENTERQUEUE") if l[2] == "601"]


def listen(rtp, pbx_port: int, seconds: float) -> bytes:
    """The PCMU payloads pbxd sends to `rtp` for `seconds`, while sending it silence (pbxd
    only sends once the phone's RTP arrived: symmetric RTP)."""
    heard = []
    deadline = time.monotonic() + seconds
    seq = 1
    while time.monotonic() < deadline:
        rtp.sendto(silence(seq, 0x1002), ("127.0.0.1", pbx_port))
        seq += 1
        try:
            pkt, src = rtp.recvfrom(2048)
        except socket.timeout:
            continue
        if src[1] == pbx_port and (pkt[1] & 0x7F) == 0:
            heard.append(pkt[12:])
    return b"".join(heard)


def test_second_caller_hears_its_position(request, procs, artifacts):
    # 811 is not registered: both callers wait, the second at position 2.
    queues = "[603]\nmember => SIP/811\nannounce-frequency = 30\nannounce-position = yes\n"
    for pbxd, cap in queue_pbxd(request, procs, artifacts, queues):
        first = call(pbxd, procs, artifacts, "603", scenario="call_uac_rtp.xml", hold_ms=3000, tag="first")
        assert wait_queue_log(pbxd, lambda ls: events(ls, "ENTERQUEUE"), 8), pbxd.log_tail()
        uac, rtp, pbx_port = caller_with_rtp(pbxd, cap, procs, artifacts, "603")
        stream = listen(rtp, pbx_port, 4)
        # pbxd sends to the phone once its first RTP arrives (symmetric RTP), so the start of
        # the announcement, played at once, may be lost: match from 0.3 s in.
        thereare = find_prompt(stream, "queue-thereare", skip=2400)
        assert thereare >= 0, f"no queue-thereare in the second caller's audio ({len(stream)} bytes)\n" + pbxd.log_tail()
        two = find_prompt(stream, "digits/2", thereare)
        assert two > thereare, "position 2 not said"
        assert find_prompt(stream, "queue-callswaiting", two) > two
        rtp.close()
        assert first.wait().rc == 0
        assert uac.wait().rc == 0
        lines = wait_queue_log(pbxd, lambda ls: events(ls, "EXITWITHTIMEOUT"), 5)
        assert [l[4] for l in lines] == ["ENTERQUEUE", "ENTERQUEUE", "ABANDON", "EXITWITHTIMEOUT"], lines


def test_moving_up_is_announced_after_min_announce_frequency(request, procs, artifacts):
    """announce-frequency 30, min-announce-frequency 2: the second caller hears "2 calls
    waiting" at once; the first hangs up meanwhile, so as soon as that announcement is over
    (more than 2 s after it began) the second hears "you are next" — not 30 s later."""
    queues = "[600]\nmember => SIP/811\nannounce-frequency = 30\nmin-announce-frequency = 2\n"
    for pbxd, cap in queue_pbxd(request, procs, artifacts, queues):
        first = call(pbxd, procs, artifacts, "600", scenario="call_uac_rtp.xml", hold_ms=2000, tag="first")
        assert wait_queue_log(pbxd, lambda ls: events(ls, "ENTERQUEUE"), 8), pbxd.log_tail()
        uac, rtp, pbx_port = caller_with_rtp(pbxd, cap, procs, artifacts, "600", scenario="call_uac_rtp.xml", hold_ms=9000)
        stream = listen(rtp, pbx_port, 8.5)
        rtp.close()
        two = find_prompt(stream, "digits/2")
        assert two >= 0, f"position 2 not said ({len(stream)} bytes)\n" + pbxd.log_tail()
        thanks = find_prompt(stream, "queue-thankyou", two)
        assert thanks > two, "the first announcement did not end with queue-thankyou"
        next_ = find_prompt(stream, "queue-youarenext", thanks, skip=800)
        assert next_ > thanks, f"moving up to 1 was not announced within 8.5 s ({len(stream)} bytes)\n" + pbxd.log_tail()
        assert first.wait().rc == 0
        assert uac.wait().rc == 0
        lines = wait_queue_log(pbxd, lambda ls: len(events(ls, "ABANDON")) == 2, 5)
        assert [l[4] for l in lines] == ["ENTERQUEUE", "ENTERQUEUE", "ABANDON", "ABANDON"], lines


def test_feature_codes_change_who_rings(request, procs, artifacts):
    queues = "[600]\nstrategy = linear\ntimeout = 3\n\n[agents]\nagent => 701,1234,Alice,600\n"
    for pbxd, _ in queue_pbxd(request, procs, artifacts, queues):
        port = netutil.free_port(tcp=False)
        assert register(pbxd, procs, artifacts, "1002", port).rc == 0
        login = call(pbxd, procs, artifacts, "*457011234", user="1002", tag="login")
        assert login.wait().rc == 0
        assert wait_log(pbxd, r"AGENTSTATUS=LOGGEDIN", 5), pbxd.log_tail()
        desk = callee(pbxd, procs, artifacts, "1002", port, "uas_answer_hangup.xml", hold_ms=300)
        res = call(pbxd, procs, artifacts, tag="served").wait()
        assert res.rc == 0, res.describe()
        assert desk.wait().rc == 0
        lines = wait_queue_log(pbxd, lambda ls: events(ls, "COMPLETEAGENT"), 5)
        assert [l[3] for l in events(lines, "CONNECT")] == ["Alice"], lines
        pause = call(pbxd, procs, artifacts, "*47", user="1002", tag="pause")
        assert pause.wait().rc == 0
        assert wait_log(pbxd, r"AGENTSTATUS=PAUSED", 5), pbxd.log_tail()
        logout = call(pbxd, procs, artifacts, "*46", user="1002", tag="logout")
        assert logout.wait().rc == 0
        lines = wait_queue_log(pbxd, lambda ls: events(ls, "REMOVEMEMBER"), 5)
        assert [l[4] for l in lines if l[3] == "Alice"][:2] == ["ADDMEMBER", "CONNECT"]
        assert events(lines, "REMOVEMEMBER")[0][3] == "Alice", lines


def test_ten_callers_four_agents_served_in_arrival_order(request, procs, artifacts):
    queues = queues_conf("leastrecent", members=("811", "812", "813", "823"))
    for pbxd, _ in queue_pbxd(request, procs, artifacts, queues):
        agents = [agent(pbxd, procs, artifacts, u, calls=4, hold_ms=1500, timeout=60) for u in ("811", "812", "813", "823")]
        callers = []
        for n in range(10):
            callers.append(call(pbxd, procs, artifacts, timeout=60, tag=f"c{n}"))
            time.sleep(0.3)
        for c in callers:
            res = c.wait()
            assert res.rc == 0, res.describe()
        lines = wait_queue_log(pbxd, lambda ls: len(events(ls, "COMPLETEAGENT")) == 10, 10)
        arrival = [l[1] for l in events(lines, "ENTERQUEUE")]
        served = [l[1] for l in events(lines, "CONNECT")]
        assert len(arrival) == 10 and sorted(served) == sorted(arrival), lines
        # The first four were answered at once; the six who waited were served in order.
        assert [c for c in served if c in arrival[4:]] == arrival[4:], lines
        for a in agents:
            a.proc.terminate()


@pytest.mark.parametrize("restart", [False, True], ids=["timeoutrestart-no", "timeoutrestart-yes"])
def test_busy_agent_and_timeoutrestart(request, procs, artifacts, restart):
    """linear, timeout 4: 811 rings 2 s then answers 486 Busy; 812 never answers. As app_queue,
    812 rings for what is left of the 4 s (about 2 s), or all 4 s again with timeoutrestart."""
    extra = f"timeout = 4\nretry = 30\ntimeoutrestart = {'yes' if restart else 'no'}\n"
    for pbxd, _ in queue_pbxd(request, procs, artifacts, queues_conf("linear", members=("811", "812"), extra=extra)):
        a811 = agent(pbxd, procs, artifacts, "811", scenario="uas_ring_then_busy.xml", hold_ms=2000, timeout=15)
        a812 = agent(pbxd, procs, artifacts, "812", scenario="uas_ring_no_answer.xml", timeout=15)
        res = call(pbxd, procs, artifacts, scenario="call_uac_rtp.xml", hold_ms=7500).wait()
        assert res.rc == 0, res.describe()
        lines = wait_queue_log(pbxd, lambda ls: events(ls, "ABANDON"), 5)
        rna = events(lines, "RINGNOANSWER")
        assert [l[3] for l in rna] == ["SIP/811", "SIP/812"], lines
        assert 1700 <= int(rna[0][5]) <= 2800, lines
        rang = int(rna[1][5])
        if restart:
            assert 3600 <= rang <= 4600, f"812 rang {rang} ms, not the whole timeout again\n{lines}"
        else:
            assert 1200 <= rang <= 2600, f"812 rang {rang} ms, not what was left of the timeout\n{lines}"
        assert a811.wait().rc == 0
        assert a812.wait().received("CANCEL")


def test_caller_hanging_up_while_the_agent_rings_is_ringcanceled(request, procs, artifacts):
    for pbxd, _ in queue_pbxd(request, procs, artifacts, queues_conf("linear", members=("811",), extra="timeout = 10\n")):
        a811 = agent(pbxd, procs, artifacts, "811", scenario="uas_ring_no_answer.xml", timeout=15)
        res = call(pbxd, procs, artifacts, scenario="call_uac_rtp.xml", hold_ms=2500).wait()
        assert res.rc == 0, res.describe()
        lines = wait_queue_log(pbxd, lambda ls: events(ls, "ABANDON"), 5)
        assert [l[4] for l in lines] == ["ENTERQUEUE", "RINGCANCELED", "ABANDON"], lines
        cancelled = events(lines, "RINGCANCELED")[0]
        assert cancelled[1] == lines[0][1] and cancelled[2:4] == ["600", "SIP/811"], lines
        assert 1500 <= int(cancelled[5]) <= 3500, lines
        assert_table_matches_file(pbxd, lines)
        assert a811.wait().received("CANCEL")
