"""`pbxd -rx` over the control socket, `dialplan reload` and SIGHUP, against a running pbxd.

- A broken extensions.conf: `pbxd -rx "dialplan reload"` exits 1 and names file:line; the old
  dialplan still routes calls (700 answers, the new 701 is still 404). Fixed: the reload
  succeeds and 701 answers. SIGHUP reloads too (702).
- A call in progress (710: Answer, Wait, Verbose, Hangup) keeps running through a reload that
  removes its extension; `core show channels` shows it while it waits.
- `sip show peers` shows SIPp peers' registrations and a qualified peer's OK (n ms);
  `core show help`, `dialplan show`; an unknown command exits 1; an overlong line is refused
  and a silent client dropped after 10 s; a second pbxd on the same data directory is refused;
  `-rx` against a stopped pbxd exits 1 and says it is not running."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time

import pytest

import netutil
from callhelpers import callee, caller, register, running_pbxd, wait_log
from pbxdproc import pbxd_binary
from sipphelpers import run_caller

EXTENSIONS = """\
exten => 700,1,Answer()
 same => n,Playback(beep)
 same => n,Hangup()
exten => 710,1,Answer()
 same => n,Wait(4)
 same => n,Verbose(1,710 still runs its old dialplan)
 same => n,Hangup()
"""


@pytest.fixture
def pbxd(request, procs, artifacts):
    yield from running_pbxd(request, procs, artifacts, extensions=EXTENSIONS, sounds=True)


@pytest.fixture
def stoppable_pbxd(request, procs, artifacts):
    yield from running_pbxd(request, procs, artifacts, extensions=EXTENSIONS, sounds=True, stopped_by_test=True,
                            peers={"812": {"qualify": "300", "qualifyfreq": "1"}})


def rx(pbxd, command: str, flag: str = "-rx") -> subprocess.CompletedProcess:
    """`pbxd --config-dir DIR -rx COMMAND` (the data directory comes from DIR/pbxd.conf)."""
    return subprocess.run([str(pbxd_binary()), "--config-dir", str(pbxd.config_dir), flag, command],
                          capture_output=True, text=True, timeout=15)


def answered(pbxd, procs, artifacts, exten: str, tag: str):
    """A SIPp call to `exten` that must be answered and then get pbxd's BYE (not started)."""
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp.bind(("127.0.0.1", 0))
    uac = caller(pbxd, procs, artifacts, "1001", exten, "ivr_uac_rtp_wait_bye.xml", timeout=20, tag=tag,
                 keys={"rtp_port": str(rtp.getsockname()[1])})
    uac.rtp = rtp
    return uac


def call_answers(pbxd, procs, artifacts, exten: str, tag: str) -> bool:
    uac = answered(pbxd, procs, artifacts, exten, tag)
    try:
        return uac.run().rc == 0
    finally:
        uac.rtp.close()


def call_is_404(pbxd, procs, artifacts, exten: str, tag: str) -> bool:
    return run_caller(pbxd, procs, artifacts, "1001", exten, scenario="uac_expect_404.xml", timeout=15, tag=tag).rc == 0


def control_exchange(pbxd, data: bytes) -> bytes:
    """Sends raw bytes on pbxd's control socket (reached through /proc/self/fd, as pbxd does,
    since the artifacts path may be longer than a socket path may be) and reads until closed."""
    directory = os.open(pbxd.data_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(15)
            sock.connect(f"/proc/self/fd/{directory}/pbxd.ctl")
            sock.sendall(data)
            reply = b""
            while chunk := sock.recv(4096):
                reply += chunk
            return reply
    finally:
        os.close(directory)


def reloads_logged(pbxd) -> int:
    return len(re.findall(r"Dialplan reloaded: ", pbxd.log_text()))


def test_broken_reload_keeps_old_dialplan_fixed_reload_and_sighup_apply(pbxd, procs, artifacts):
    pbxd, _ = pbxd
    conf = pbxd.config_dir / "extensions.conf"
    good = conf.read_text()
    broken = good + "exten => 701,1,Answer()\n same => n,Playback(beep)\n same => n,Hangup()\nexten => 799\n"
    conf.write_text(broken)
    line = len(broken.splitlines())

    r = rx(pbxd, "dialplan reload")
    assert r.returncode == 1, f"a broken reload must exit 1: {r}"
    assert f"extensions.conf:{line}: missing priority" in r.stdout and "running dialplan is kept" in r.stdout, r
    assert wait_log(pbxd, rf"Dialplan reload failed, keeping the running dialplan: \S*extensions.conf:{line}:", 2), \
        pbxd.log_tail(20)
    assert call_answers(pbxd, procs, artifacts, "700", "old-700"), "the old dialplan no longer routes 700\n" + pbxd.log_tail(30)
    assert call_is_404(pbxd, procs, artifacts, "701", "broken-701"), "701 of the broken file was loaded\n" + pbxd.log_tail(30)

    conf.write_text(broken.replace("exten => 799\n", ""))
    r = rx(pbxd, "dialplan reload")
    assert r.returncode == 0 and re.search(r"Dialplan reloaded: 2 contexts, \d+ extensions", r.stdout), r
    assert call_answers(pbxd, procs, artifacts, "701", "new-701"), "701 does not answer after the reload\n" + pbxd.log_tail(30)

    before = reloads_logged(pbxd)
    conf.write_text(conf.read_text() + "exten => 702,1,Answer()\n same => n,Playback(beep)\n same => n,Hangup()\n")
    pbxd.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while reloads_logged(pbxd) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert reloads_logged(pbxd) == before + 1, "SIGHUP did not reload\n" + pbxd.log_tail(20)
    assert call_answers(pbxd, procs, artifacts, "702", "hup-702"), "702 does not answer after SIGHUP\n" + pbxd.log_tail(30)
    assert pbxd.alive()


def test_call_in_progress_survives_a_reload_that_removes_it(pbxd, procs, artifacts):
    pbxd, _ = pbxd
    uac = answered(pbxd, procs, artifacts, "710", "long-710").start()
    try:
        assert wait_log(pbxd, r"Executing \[710@internal:2\] Wait", 10), pbxd.log_tail(30)
        shown = rx(pbxd, "core show channels")
        assert shown.returncode == 0, shown
        # The location columns fill in once the executor records each channel's dialplan
        # location in its snapshot (the events work does); until then they read (None).
        assert re.search(r"(?m)^SIP/1001-\S+\s+(710@internal:2\s+Up\s+Wait\(4\)|\(None\)\s+Up\s+\(None\))\s*$",
                         shown.stdout), shown.stdout
        assert re.search(r"(?m)^1 active channel$", shown.stdout), shown.stdout

        conf = pbxd.config_dir / "extensions.conf"
        conf.write_text(conf.read_text().replace("exten => 710,1,Answer()", "exten => 711,1,Answer()"))
        r = rx(pbxd, "reload")
        assert r.returncode == 0 and "Dialplan reloaded" in r.stdout, r
        mark = len(pbxd.log_text())
        result = uac.wait()
    finally:
        uac.rtp.close()
    assert result.rc == 0, "the call in progress did not end normally after the reload\n" + result.describe()
    assert wait_log(pbxd, r"710 still runs its old dialplan", 1, after=mark), pbxd.log_tail(30)
    assert call_is_404(pbxd, procs, artifacts, "710", "gone-710"), "710 still routes new calls\n" + pbxd.log_tail(30)


def test_console_commands_and_a_stopped_pbxd(stoppable_pbxd, procs, artifacts):
    pbxd, _ = stoppable_pbxd
    port = netutil.free_port()
    reg = register(pbxd, procs, artifacts, "1002", port)
    assert reg.rc == 0, reg.describe()
    # 812 is qualified (OPTIONS every second) and answers from a SIPp UAS.
    port812 = netutil.free_port()
    assert register(pbxd, procs, artifacts, "812", port812).rc == 0
    callee(pbxd, procs, artifacts, "812", port812, "call_uas_options.xml", calls=500, timeout=30, tag="uas-812")
    assert wait_log(pbxd, r"peer is now OK.*812|812.*peer is now OK", 6), pbxd.log_tail(20)

    peers = rx(pbxd, "sip show peers")
    assert peers.returncode == 0, peers
    lines = peers.stdout.splitlines()
    assert lines[0].split()[:4] == ["Name/username", "Host", "Dyn", "Forcerport"], peers.stdout
    row = next(l for l in lines if l.startswith("1002/"))
    assert re.match(rf"1002/1002\s+127\.0\.0\.1\s+D\s+.*\s{port}\s+Unmonitored", row), row
    assert re.match(r"1001\s+\(Unspecified\)\s+D\s+.*\s0\s+Unmonitored", next(l for l in lines if l.startswith("1001 "))), peers.stdout
    assert re.match(rf"812/812\s+127\.0\.0\.1\s+D\s+.*\s{port812}\s+OK \(\d+ ms\)", next(l for l in lines if l.startswith("812/"))), \
        peers.stdout
    assert lines[-1] == "4 sip peers [Monitored: 1 online, 0 offline Unmonitored: 1 online, 2 offline]", peers.stdout

    helped = rx(pbxd, "core show help", flag="--rx")
    for command in ("core show channels", "core show version", "dialplan reload", "dialplan show", "reload", "sip show peers"):
        assert re.search(rf"(?m)^{command}\s{{2,}}\S", helped.stdout), helped.stdout
    shown = rx(pbxd, "dialplan show internal")
    assert shown.returncode == 0 and re.search(r"(?m)^  '700' =>\s+1\. Answer\(\)\s+\[extensions\.conf:\d+\]$", shown.stdout), \
        shown.stdout
    unknown = rx(pbxd, "no such thing")
    assert unknown.returncode == 1 and "No such command 'no such thing'" in unknown.stdout, unknown

    # The socket itself: a line longer than 4096 bytes is refused, a silent client is dropped.
    too_long = control_exchange(pbxd, b"x" * 5000)
    assert too_long.startswith(b"Response: Error\nCommand longer than 4096 bytes"), too_long
    started = time.monotonic()
    assert control_exchange(pbxd, b"") == b"" and 8 < time.monotonic() - started < 13

    # A second pbxd on the same data directory is refused (it would share the registrations).
    second = subprocess.run([str(pbxd_binary()), "--config-dir", str(pbxd.config_dir), "--data-dir", str(pbxd.data_dir)],
                            capture_output=True, text=True, timeout=20)
    assert second.returncode == 78 and "another pbxd is running with data directory" in second.stderr, second
    assert rx(pbxd, "core show version").returncode == 0, "the first pbxd lost its control socket"

    pbxd.stop()
    assert not (pbxd.data_dir / "pbxd.ctl").exists(), "the control socket outlived pbxd"
    stopped = rx(pbxd, "core show version")
    assert stopped.returncode == 1 and "pbxd is not running" in stopped.stderr, stopped
