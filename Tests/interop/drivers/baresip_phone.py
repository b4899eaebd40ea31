#!/usr/bin/env python3
"""Drive one real baresip UA (Debian baresip-core 1.0.x) headless, for tests.

usage: baresip_phone.py HOST PORT USER PASS AUDIO_IN [options]

  HOST PORT   SIP registrar/proxy (UDP); the AOR is sip:USER@HOST:PORT
  USER PASS   digest credentials
  AUDIO_IN    WAV to send as the microphone (converted to 8 kHz mono s16 with sox)
options:
  -c TARGET   caller: dial TARGET (an extension, or a sip: URI); without -c the UA
              auto-answers incoming calls (callee)
  -t SECONDS  caller: time in the call before hanging up (default 8);
              callee: longest wait for the call to end (default 60)
  -d DIGITS   caller: send these DTMF digits (RFC 4733) 1 s after the answer
  -r FILE     copy the received audio of the call to FILE (WAV)
  -l PORT     local SIP port (UDP+TCP; baresip also takes TCP PORT+1); default: free
  -p PORT     first of 10 local RTP ports; default: free
  -w DIR      work dir (config, log, recordings); default: a new temp dir
  --no-register  direct-IP mode: no REGISTER (for checking the driver without a server)

stdout, one line per milestone: WORKDIR d, REGISTERED aor (or READY), CALL_ESTABLISHED,
DTMF_SENT x (caller), DTMF_RECEIVED x (callee), CALL_ENDED, RECORDED file.  exit: 0 ok, 2 registration failed, 3 call not
established, 4 call did not end, 5 nothing recorded, 1 other error.

How (baresip 1.0.0): a config dir with `config` + `accounts`; commands go to the stdio
module through a FIFO that this driver keeps open for writing (EOF on stdin makes
baresip spin); call progress is read from baresip's own output; the sndfile module
records each call's decoded audio to <snd_path>/dump-...-dec.wav.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from phone_common import (argument_parser, logger, open_command_fifo, pick_ports, read_output, say,
                          stop_process)

log = logger("baresip_phone")

MODULES = "/usr/lib/baresip/modules"

RE_REGISTERED = re.compile(r"registered successfully")
RE_REG_FAILED = re.compile(r"reg: \S+: [3-6]\d\d |registration failed|could not register", re.I)
RE_ESTABLISHED = re.compile(r"Call established")
RE_TERMINATED = re.compile(r"terminated \(duration")
RE_CLOSED = re.compile(r"session closed: (.*)")
RE_DTMF_SENT = re.compile(r"send DTMF digit end: '(.)'")
RE_DTMF_RECEIVED = re.compile(r"received event: '(.)' \(end=1\)")










class Baresip:
    def __init__(self, work: Path, host: str, port: int, user: str, password: str, audio: Path,
                 sip_port: int, rtp_port: int, answer_auto: bool, register: bool):
        self.work, self.host, self.port, self.user = work, host, port, user
        self.password, self.sip_port, self.rtp_port = password, sip_port, rtp_port
        self.answer_auto, self.register = answer_auto, register
        self.cfg = work / "cfg"
        # sndfile (1.0.0) builds "<snd_path>/dump-<time>-dec.wav" in a 128-byte buffer: a
        # long path silently loses the "-dec.wav" tail (and enc/dec share one file). So it
        # records into a short temporary dir; recording() moves the files to work/rec.
        self.rec = work / "rec"
        self.snd_path = Path(tempfile.mkdtemp(prefix="bsr"))
        self.logfile = work / "baresip.log"
        self.input = work / "input.wav"
        self.proc: subprocess.Popen | None = None
        self.fifo_fd: int | None = None
        self.cfg.mkdir(parents=True, exist_ok=True)
        self.rec.mkdir(exist_ok=True)
        subprocess.run(["sox", str(audio), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer",
                        str(self.input)], check=True)

    def write_config(self) -> None:
        (self.cfg / "config").write_text(f"""\
poll_method\t\tepoll
sip_listen\t\t127.0.0.1:{self.sip_port}
net_interface\t\t127.0.0.1
call_local_timeout\t120
call_max_calls\t\t4
audio_player\t\talsa,null
audio_alert\t\talsa,null
audio_source\t\taufile,{self.input}
ausrc_format\t\ts16
auplay_format\t\ts16
auenc_format\t\ts16
audec_format\t\ts16
audio_buffer\t\t20-160
rtp_ports\t\t{self.rtp_port}-{self.rtp_port + 9}
rtcp_mux\t\tno
jitter_buffer_delay\t5-10
rtp_stats\t\tyes
module_path\t\t{MODULES}
module\t\t\tstdio.so
module\t\t\tg711.so
module\t\t\talsa.so
module\t\t\taufile.so
module\t\t\tsndfile.so
module_tmp\t\tuuid.so
module_tmp\t\taccount.so
module_app\t\tmenu.so
snd_path\t\t{self.snd_path}
""")
        answer = "auto" if self.answer_auto else "manual"
        regint = 300 if self.register else 0
        (self.cfg / "accounts").write_text(
            f"<sip:{self.user}@{self.host}:{self.port}>;auth_user={self.user};auth_pass={self.password};"
            f"answermode={answer};regint={regint};audio_codecs=PCMU,PCMA\n")

    def start(self) -> None:
        self.write_config()
        self.fifo_fd = open_command_fifo(self.work)
        out = open(self.logfile, "wb")
        self.proc = subprocess.Popen(["baresip", "-f", str(self.cfg)], stdin=self.fifo_fd, stdout=out,
                                     stderr=subprocess.STDOUT, cwd=self.work, start_new_session=True)
        out.close()
        (self.work / "baresip.pid").write_text(str(self.proc.pid))

    def send(self, text: str) -> None:
        os.write(self.fifo_fd, text.encode())

    def text(self) -> str:
        return read_output(self.logfile)

    def count(self, rx: re.Pattern) -> int:
        return len(rx.findall(self.text()))

    def wait(self, rx: re.Pattern, timeout: float, n: int = 1) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count(rx) >= n:
                return True
            if self.proc.poll() is not None:
                return self.count(rx) >= n
            time.sleep(0.1)
        return self.count(rx) >= n

    def stop(self) -> None:
        stop_process(self.proc, self.fifo_fd, b"/quit\n", grace=5)
        self.fifo_fd = None

    def collect_recordings(self) -> None:
        """Moves sndfile's files from the short temporary dir into work/rec."""
        if self.snd_path.is_dir():
            for f in self.snd_path.iterdir():
                shutil.move(str(f), str(self.rec / f.name))
            self.snd_path.rmdir()

    def recording(self) -> Path | None:
        self.collect_recordings()
        files = sorted(self.rec.glob("*-dec.wav"), key=lambda p: p.stat().st_mtime)
        return files[-1] if files else None


def main(argv: list[str]) -> int:
    ap = argument_parser(__doc__.split("\n\n")[0])
    ap.add_argument("--no-register", action="store_true")
    a = ap.parse_args(argv)

    if shutil.which("baresip") is None:
        log("baresip not installed (apt-get install baresip-core)")
        return 1
    if not a.audio.is_file():
        log(f"cannot read {a.audio}")
        return 1
    caller = a.target is not None
    secs = a.secs if a.secs is not None else (8 if caller else 60)
    work = a.work or Path(tempfile.mkdtemp(prefix=f"baresip-{a.user}."))
    work.mkdir(parents=True, exist_ok=True)
    sip_port = a.sip_port or pick_ports(36000, 37990, 2, tcp=True)
    rtp_port = a.rtp_port or pick_ports(38000, 39990, 10, tcp=False)

    ua = Baresip(work.resolve(), a.host, a.port, a.user, a.password, a.audio, sip_port, rtp_port,
                 answer_auto=not caller, register=not a.no_register)
    stop = {"flag": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(flag=True))
    say(f"WORKDIR {ua.work}")
    rc = 0
    try:
        ua.start()
        if a.no_register:
            time.sleep(1.0)
            if ua.proc.poll() is not None:
                log(f"baresip exited at start, see {ua.logfile}")
                return 1
            say(f"READY sip:{a.user}@127.0.0.1:{sip_port}")
        else:
            deadline = time.monotonic() + a.reg_timeout
            while time.monotonic() < deadline and not ua.count(RE_REGISTERED) and not ua.count(RE_REG_FAILED):
                if ua.proc.poll() is not None:
                    break
                time.sleep(0.1)
            if not ua.count(RE_REGISTERED):
                log(f"registration failed, see {ua.logfile}")
                for line in ua.text().splitlines():
                    if re.search(r"reg:|fail|error|40\d", line, re.I):
                        log("  " + line)
                return 2
            say(f"REGISTERED sip:{a.user}@{a.host}:{a.port}")

        if caller:
            uri = a.target if a.target.startswith("sip:") else f"sip:{a.target}@{a.host}:{a.port}"
            ua.send(f"/dial {uri}\n")
            log(f"dialing {uri}")
            t0 = time.monotonic()
            while time.monotonic() - t0 < 30:
                if ua.count(RE_ESTABLISHED) or ua.count(RE_CLOSED) or ua.count(RE_TERMINATED):
                    break
                time.sleep(0.1)
            if not ua.count(RE_ESTABLISHED):
                closed = RE_CLOSED.findall(ua.text())
                log(f"call not established: {closed or 'no answer within 30 s'}")
                return 3
            say(f"CALL_ESTABLISHED {uri}")
            t0 = time.monotonic()
            if a.digits:
                time.sleep(1.0)
                for d in a.digits:
                    ua.send(d)          # a key press; the stdio module sends it as RFC 4733
                    time.sleep(0.3)
                time.sleep(0.5)
                for d in RE_DTMF_SENT.findall(ua.text()):
                    say(f"DTMF_SENT {d}")
            while time.monotonic() - t0 < secs and not stop["flag"] and not ua.count(RE_TERMINATED):
                time.sleep(0.1)
            if ua.count(RE_TERMINATED):
                log("the other side hung up first")
            else:
                ua.send("/hangup\n")
            if ua.wait(RE_TERMINATED, 5):
                say("CALL_ENDED")
            else:
                log("no call end seen after /hangup")
                rc = 4
        else:
            log(f"waiting up to {secs:.0f} s for a call to be answered and to end")
            t0 = time.monotonic()
            seen = False
            while time.monotonic() - t0 < secs and not stop["flag"]:
                if not seen and ua.count(RE_ESTABLISHED):
                    say("CALL_ESTABLISHED")
                    seen = True
                if ua.count(RE_TERMINATED):
                    break
                time.sleep(0.1)
            if not seen and ua.count(RE_ESTABLISHED):
                say("CALL_ESTABLISHED")
                seen = True
            for d in RE_DTMF_RECEIVED.findall(ua.text()):
                say(f"DTMF_RECEIVED {d}")
            if not seen:
                log("no call was established")
                rc = 3
            elif ua.count(RE_TERMINATED):
                say("CALL_ENDED")
            else:
                log(f"the call did not end within {secs:.0f} s")
                rc = 4
    finally:
        ua.stop()
        ua.collect_recordings()
    if a.record is not None:
        f = ua.recording()
        if f is None:
            log("nothing recorded")
            return rc or 5
        shutil.copyfile(f, a.record)
        say(f"RECORDED {a.record.resolve()}")
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
