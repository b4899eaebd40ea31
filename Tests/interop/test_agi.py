"""AGI over a real call: a FastAGI server written here (a plain socket on 127.0.0.1) serves
`AGI(agi://127.0.0.1:PORT/...)` while a SIPp caller (1001, digest auth) with the test's own RTP
socket is in the call. The server checks pbxd's bytes against Asterisk 18's captures
(shared/reference/transcripts/agi-07*.txt): the environment block (keys, order, values), the
result lines, 510, the HANGUP notice and 511 after a hangup.

- test_fastagi_answers_plays_reads_dtmf_and_routes: ANSWER, STREAM FILE beep (endpos = the file's
  2000 samples), GET DATA with RFC 4733 digits 4 and 2 sent from the test's RTP socket
  (`200 result=42`), SET VARIABLE ROUTE sales, GET VARIABLE (set, function, unset), an unknown
  command; the server closes, AGISTATUS is SUCCESS and the dialplan uses ROUTE to go to `sales`.
- test_fastagi_caller_hangup_is_notified: arguments become agi_arg_N; the caller hangs up during
  STREAM FILE: `200 result=-1 endpos=N` then `HANGUP`, dead-safe commands still work, others 511.
- test_pyst2_script_runs_unchanged: a local script using pyst2's AGI class answers, plays,
  reads the caller's RFC 4733 digits with GET DATA and sets the variable the dialplan routes on.
- test_panoramisk_fastagi_server: panoramisk's FastAGI Application (routing on
  agi_network_script) does the same over TCP, and sees HANGUP as its hangup error.
- test_local_agi_script: a local script (Python, in <datadir>/agi-bin) gets the same block
  without agi_network, sets a variable the dialplan then reads; a missing script gives NOTFOUND.
"""
from __future__ import annotations

import re
import socket
import sys
import threading
import time

import pytest

from callhelpers import answered_call, caller, running_pbxd, wait_log, wait_sip
from agiserver import AGIConn, FastAGIServer
from netutil import free_port
from rtputil import dtmf_packets, silence

AGI_PORT = free_port()
PANORAMISK_PORT = free_port()

DIALPLAN = f"""\
exten => 520,1,AGI(agi://127.0.0.1:{AGI_PORT}/test?x=1)
 same => n,NoOp(AGISTATUS=${{AGISTATUS}})
 same => n,GotoIf($["${{ROUTE}}" = "sales"]?sales,1)
 same => n,Hangup()
exten => sales,1,Playback(beep)
 same => n,Hangup()
exten => 521,1,AGI(agi://127.0.0.1:{AGI_PORT}/hangup-test,arg one,2)
 same => n,Hangup()
exten => 523,1,AGI(pyst2-crm.py)
 same => n,NoOp(AGISTATUS=${{AGISTATUS}} PYSTDIGITS=${{PYSTDIGITS}})
 same => n,GotoIf($["${{ROUTE}}" = "sales"]?sales,1)
 same => n,Hangup()
exten => 524,1,AGI(agi://127.0.0.1:{PANORAMISK_PORT}/crm/lookup)
 same => n,NoOp(AGISTATUS=${{AGISTATUS}} PANO=${{PANO}})
 same => n,GotoIf($["${{ROUTE}}" = "sales"]?sales,1)
 same => n,Hangup()
exten => h,1,NoOp(H AGISTATUS=${{AGISTATUS}})
exten => 522,1,Answer()
 same => n,AGI(local.py,first)
 same => n,NoOp(AGISTATUS=${{AGISTATUS}} FROMSCRIPT=${{FROMSCRIPT}})
 same => n,AGI(no-such-script.py)
 same => n,NoOp(MISSING=${{AGISTATUS}})
 same => n,Hangup()
"""

# The keys of Asterisk 18's environment block, in order (agi-07-fastagi.txt).
ENV_KEYS = ["agi_request", "agi_channel", "agi_language", "agi_type", "agi_uniqueid", "agi_version",
            "agi_callerid", "agi_calleridname", "agi_callingpres", "agi_callingani2", "agi_callington",
            "agi_callingtns", "agi_dnid", "agi_rdnis", "agi_context", "agi_extension", "agi_priority",
            "agi_enhanced", "agi_accountcode", "agi_threadid"]

LOCAL_SCRIPT = """#!/usr/bin/env python3
import sys
env = []
while True:
    line = sys.stdin.readline()
    if line in ("\\n", ""):
        break
    env.append(line.rstrip("\\n"))
def cmd(text):
    sys.stdout.write(text + "\\n"); sys.stdout.flush()
    return sys.stdin.readline().rstrip("\\n")
keys = [e.split(": ", 1)[0] for e in env]
ok = keys[0] == "agi_request" and "agi_network" not in keys and "agi_arg_1: first" in env
cmd("SET VARIABLE FROMSCRIPT " + ("envok" if ok else "envbad"))
reply = cmd("GET VARIABLE FROMSCRIPT")
cmd("VERBOSE \\"script saw " + reply + "\\" 1")
"""


# A CRM-style local AGI script written with pyst2 (asterisk.agi), unchanged from how it would
# run under Asterisk.
PYST2_SCRIPT = """#!{python}
from asterisk.agi import AGI
agi = AGI()
agi.answer()
agi.stream_file("beep")
digits = agi.get_data("beep", timeout=5000, max_digits=2)
agi.set_variable("PYSTDIGITS", digits)
caller = agi.get_variable("CALLERID(num)")
agi.set_variable("ROUTE", "sales" if digits == "42" and caller == agi.env["agi_callerid"] == "1001" else "nowhere")
agi.verbose("pyst2 saw %s from %s" % (digits, caller))
"""


@pytest.fixture
def agi_pbxd(request, procs, artifacts):
    def add_script(inst):
        agi_bin = inst.data_dir / "agi-bin"
        agi_bin.mkdir(parents=True, exist_ok=True)
        script = agi_bin / "local.py"
        script.write_text(LOCAL_SCRIPT)
        script.chmod(0o755)
        crm = agi_bin / "pyst2-crm.py"
        crm.write_text(PYST2_SCRIPT.format(python=sys.executable))
        crm.chmod(0o755)
    yield from running_pbxd(request, procs, artifacts, extensions=DIALPLAN, sounds=True, prepare=add_script)


def check_env(env: list[tuple[str, str]], *, script: str, request: str, exten: str, args: list[str]):
    keys = [k for k, _ in env]
    assert keys[:2] == ["agi_network", "agi_network_script"], keys
    assert keys[2:] == ENV_KEYS + [f"agi_arg_{i + 1}" for i in range(len(args))], keys
    values = dict(env)
    assert values["agi_network"] == "yes"
    assert values["agi_network_script"] == script
    assert values["agi_request"] == request
    assert re.fullmatch(r"SIP/1001-[0-9a-f]{8}", values["agi_channel"]), values
    assert values["agi_type"] == "SIP" and values["agi_language"] == "en"
    assert re.fullmatch(r"\d+\.\d+", values["agi_uniqueid"]), values
    assert values["agi_callerid"] == "1001" and values["agi_dnid"] == exten and values["agi_rdnis"] == "unknown"
    assert (values["agi_callingpres"], values["agi_callingani2"], values["agi_callington"], values["agi_callingtns"]) \
        == ("0", "0", "0", "0")
    assert (values["agi_context"], values["agi_extension"], values["agi_priority"]) == ("internal", exten, "1")
    assert values["agi_enhanced"] == "0.0" and values["agi_accountcode"] == ""
    assert re.fullmatch(r"\d+", values["agi_threadid"]), values
    assert [values[f"agi_arg_{i + 1}"] for i in range(len(args))] == args


def keep_rtp_flowing(rtp, pbx_port, stop: threading.Event, digits: threading.Event, event_pt: int):
    """Sends silence every 20 ms (symmetric RTP latching) and, when `digits` is set, the
    RFC 4733 digits 4 and 2."""
    seq = 1
    while not stop.is_set():
        if digits.is_set():
            digits.clear()
            for d in (4, 2):
                for pkt in dtmf_packets(d, event_pt, 0x1001, seq, seq * 160):
                    rtp.sendto(pkt, ("127.0.0.1", pbx_port))
                    time.sleep(0.02)
                seq += 10
        try:
            rtp.sendto(silence(seq, 0x1001), ("127.0.0.1", pbx_port))
        except OSError:
            return
        seq += 1
        try:
            while True:
                rtp.recvfrom(2048)
        except (socket.timeout, BlockingIOError, OSError):
            pass
        time.sleep(0.02)


def test_fastagi_answers_plays_reads_dtmf_and_routes(agi_pbxd, procs, artifacts):
    pbxd, cap = agi_pbxd
    send_digits = threading.Event()
    transcript = []

    def script(agi: AGIConn):
        env = agi.env()
        check_env(env, script="test?x=1", request=f"agi://127.0.0.1:{AGI_PORT}/test?x=1", exten="520", args=[])
        transcript.append(agi.cmd("ANSWER"))
        transcript.append(agi.cmd('STREAM FILE beep ""'))
        send_digits.set()
        transcript.append(agi.cmd("GET DATA beep 3000 2"))
        transcript.append(agi.cmd('SET VARIABLE ROUTE "sales"'))
        transcript.append(agi.cmd("GET VARIABLE ROUTE"))
        transcript.append(agi.cmd("GET VARIABLE CALLERID(num)"))
        transcript.append(agi.cmd("GET VARIABLE NOSUCHVAR"))
        transcript.append(agi.cmd("FOO BAR"))
        transcript.append(agi.cmd("CHANNEL STATUS"))

    server = FastAGIServer(AGI_PORT, script)
    stop = threading.Event()
    try:
        uac, rtp, answer, pbx_port = answered_call(pbxd, cap, procs, artifacts, "520")
        event_pt = int(re.search(r"(?m)^a=rtpmap:(\d+) telephone-event/8000", answer).group(1))
        pump = threading.Thread(target=keep_rtp_flowing, args=(rtp, pbx_port, stop, send_digits, event_pt), daemon=True)
        pump.start()
        server.check()
        assert transcript == [
            "200 result=0",
            "200 result=0 endpos=2000",
            "200 result=42",
            "200 result=1",
            "200 result=1 (sales)",
            "200 result=1 (1001)",
            "200 result=0",
            "510 Invalid or unknown command",
            "200 result=6",
        ], transcript
        assert wait_log(pbxd, r"AGISTATUS=SUCCESS", 5), pbxd.log_tail(40)
        assert wait_log(pbxd, r"Executing \[sales@internal:1\] Playback", 5), \
            "ROUTE set by the AGI did not send the call to sales\n" + pbxd.log_tail(40)
        result = uac.wait()
        assert result.rc == 0, "the caller did not get pbxd's BYE after sales\n" + result.describe()
    finally:
        stop.set()
        server.close()


def test_fastagi_caller_hangup_is_notified(agi_pbxd, procs, artifacts):
    pbxd, cap = agi_pbxd
    transcript = []

    def script(agi: AGIConn):
        env = agi.env()
        check_env(env, script="hangup-test", request=f"agi://127.0.0.1:{AGI_PORT}/hangup-test", exten="521",
                  args=["arg one", "2"])
        transcript.append(agi.cmd("ANSWER"))
        # demo-congrats lasts 16 s; the caller hangs up ~1.5 s after the answer.
        transcript.append(agi.cmd('STREAM FILE demo-congrats "#"'))
        transcript.append(agi.line())
        for command in ("SET VARIABLE X 1", "GET VARIABLE X", 'SAY DIGITS 123 ""', "CHANNEL STATUS", "NOOP done"):
            transcript.append(agi.cmd(command))
        # As Asterisk 18: nothing more, and the socket stays open until the server closes it.
        assert not agi.eof_within(1.5), "pbxd closed the FastAGI socket before the server did"

    server = FastAGIServer(AGI_PORT, script)
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp.bind(("127.0.0.1", free_port(tcp=False)))
    try:
        uac = caller(pbxd, procs, artifacts, "1001", "521", "call_uac_rtp.xml", hold_ms=1500,
                     keys={"rtp_port": str(rtp.getsockname()[1])}).start()
        server.check()
        assert transcript[0] == "200 result=0", transcript
        assert re.fullmatch(r"200 result=-1 endpos=(\d+)", transcript[1]), transcript
        endpos = int(transcript[1].split("endpos=")[1])
        assert 4000 <= endpos <= 40000, f"endpos {endpos} is not about 1.5 s of 8 kHz samples"
        assert transcript[2:] == [
            "HANGUP",
            "200 result=1",
            "200 result=1 (1)",
            "511 Command Not Permitted on a dead channel or intercept routine",
            "511 Command Not Permitted on a dead channel or intercept routine",
            "200 result=0",
        ], transcript
        assert wait_log(pbxd, r"H AGISTATUS=HANGUP", 5), pbxd.log_tail(40)
        assert uac.wait().rc == 0
    finally:
        rtp.close()
        server.close()


def test_local_agi_script(agi_pbxd, procs, artifacts):
    pbxd, cap = agi_pbxd
    uac, rtp, _, _ = answered_call(pbxd, cap, procs, artifacts, "522")
    try:
        assert wait_log(pbxd, r"AGISTATUS=SUCCESS FROMSCRIPT=envok", 10), pbxd.log_tail(40)
        assert wait_log(pbxd, r"script saw 200 result=1 \(envok\)", 5), pbxd.log_tail(40)
        assert wait_log(pbxd, r"MISSING=NOTFOUND", 5), pbxd.log_tail(40)
        assert uac.wait().rc == 0
    finally:
        rtp.close()


def test_pyst2_script_runs_unchanged(agi_pbxd, procs, artifacts):
    """pyst2's AGI class (stdin/stdout) answers, plays, reads RFC 4733 digits 4 2 with GET DATA
    and sets the variable the dialplan routes on."""
    pbxd, cap = agi_pbxd
    send_digits = threading.Event()
    stop = threading.Event()
    uac, rtp, answer, pbx_port = answered_call(pbxd, cap, procs, artifacts, "523")
    try:
        event_pt = int(re.search(r"(?m)^a=rtpmap:(\d+) telephone-event/8000", answer).group(1))
        pump = threading.Thread(target=keep_rtp_flowing, args=(rtp, pbx_port, stop, send_digits, event_pt), daemon=True)
        pump.start()
        time.sleep(0.5)
        send_digits.set()
        assert wait_log(pbxd, r"pyst2 saw 42 from 1001", 10), pbxd.log_tail(40)
        assert wait_log(pbxd, r"AGISTATUS=SUCCESS PYSTDIGITS=42", 5), pbxd.log_tail(40)
        assert wait_log(pbxd, r"Executing \[sales@internal:1\] Playback", 5), pbxd.log_tail(40)
        assert uac.wait().rc == 0
    finally:
        stop.set()
        rtp.close()


def test_panoramisk_fastagi_server(agi_pbxd, procs, artifacts):
    """panoramisk's asyncio FastAGI server, routed on `crm/lookup`: answers, plays, reads the
    caller's RFC 4733 digits with GET DATA, sets the variable the dialplan routes on."""
    import asyncio
    from panoramisk.fast_agi import Application

    pbxd, cap = agi_pbxd
    send_digits = threading.Event()
    results: dict = {}
    done = threading.Event()

    async def lookup(request):
        results["script"] = request.headers.get("agi_network_script")
        results["answer"] = await request.send_command("ANSWER")
        results["stream"] = await request.send_command('STREAM FILE beep ""')
        send_digits.set()
        results["data"] = await request.send_command("GET DATA beep 5000 2")
        digits = results["data"]["result"][0]
        await request.send_command(f"SET VARIABLE PANO {digits}")
        await request.send_command('SET VARIABLE ROUTE "sales"')
        results["callerid"] = await request.send_command("GET VARIABLE CALLERID(num)")
        results["unknown"] = await request.send_command("FOO BAR")
        done.set()

    loop = asyncio.new_event_loop()
    app = Application(loop=loop)
    app.add_route("crm/lookup", lookup)
    server = loop.run_until_complete(asyncio.start_server(app.handler, "127.0.0.1", PANORAMISK_PORT))
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()
    stop = threading.Event()
    try:
        uac, rtp, answer, pbx_port = answered_call(pbxd, cap, procs, artifacts, "524")
        try:
            event_pt = int(re.search(r"(?m)^a=rtpmap:(\d+) telephone-event/8000", answer).group(1))
            threading.Thread(target=keep_rtp_flowing, args=(rtp, pbx_port, stop, send_digits, event_pt), daemon=True).start()
            assert done.wait(20), f"the panoramisk handler did not finish: {results}\n" + pbxd.log_tail(40)
            assert results["script"] == "crm/lookup"
            assert results["answer"]["status_code"] == 200 and results["answer"]["result"][0] == "0"
            assert results["stream"]["endpos"] == ("2000", ""), results["stream"]
            assert results["data"]["result"] == ("42", ""), results["data"]
            assert results["callerid"]["result"] == ("1", "1001"), results["callerid"]
            assert results["unknown"].get("error") == "AGIInvalidCommand", results["unknown"]
            assert wait_log(pbxd, r"AGISTATUS=SUCCESS PANO=42", 10), pbxd.log_tail(40)
            assert wait_log(pbxd, r"Executing \[sales@internal:1\] Playback", 5), pbxd.log_tail(40)
            assert uac.wait().rc == 0
        finally:
            stop.set()
            rtp.close()
    finally:
        server.close()
        loop.call_soon_threadsafe(loop.stop)
        runner.join(5)
