#!/usr/bin/env python3
"""Drive one real Linphone UA (Debian linphone-cli 5.1.x, `linphonec`) headless, for tests.

usage: linphone_phone.py HOST PORT USER PASS AUDIO_IN [options]

  HOST PORT   SIP registrar/proxy (UDP); the AOR is sip:USER@HOST:PORT
  USER PASS   digest credentials
  AUDIO_IN    WAV to send as the microphone (converted to 8 kHz mono s16 with sox;
              linphone plays it in a loop during the call)
options:
  -c TARGET   caller: call TARGET (an extension, or a sip: URI); without -c the UA
              auto-answers incoming calls (callee)
  -t SECONDS  caller: time in the call before hanging up (default 8);
              callee: longest wait for the call to end (default 60)
  -d DIGITS   caller: send these DTMF digits (RFC 4733) 1 s after the answer
  -r FILE     copy the received audio of the call to FILE (WAV)
  -l PORT     local SIP port (UDP only); default: free
  -p PORT     first of 6 local RTP ports (audio, video, text); default: free
  -w DIR      work dir (config, HOME, logs); default: a new temp dir
  -R SECONDS  registration timeout (default 10)

stdout, one line per milestone: WORKDIR d, REGISTERED aor, CALL_ESTABLISHED,
DTMF_SENT x (caller), DTMF_RECEIVED x (callee), CALL_ENDED, RECORDED file. exit: 0 ok, 2 registration failed, 3 call not established, 4 call did
not end, 5 nothing recorded, 1 other error.

How (linphonec 5.1): a linphonerc written fresh each run (linphonec rewrites it on exit)
with every codec of linphone's table listed so that only PCMU/PCMA stay enabled; its own
HOME with ~/.local/share/linphone (without it the SIP stack never starts); commands on
stdin through a FIFO this driver keeps open; "soundcard use files" + play/record for
audio; progress read from linphonec's output.
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

log = logger("linphone_phone")

# linphone's codec table: (mime, rate, channels); only G.711 stays enabled
CODECS = [("PCMU", 8000, 1, 1), ("PCMA", 8000, 1, 1), ("opus", 48000, 2, 0), ("speex", 16000, 1, 0),
          ("speex", 8000, 1, 0), ("speex", 32000, 1, 0), ("GSM", 8000, 1, 0), ("G722", 8000, 1, 0),
          ("G729", 8000, 1, 0), ("L16", 44100, 2, 0), ("L16", 44100, 1, 0)]

RE_REGISTERED = re.compile(r"registered, identity=")
RE_ESTABLISHED = re.compile(r"Media streams established|connected\.")
# the peer is shown as a URI or as '"Display Name" <URI>'
RE_ENDED = re.compile(r"Call \d+ with .+ (?:ended|error)")
RE_DTMF_RECEIVED = re.compile(r"Receiving tone (.) from")
RE_FAILED = re.compile(r"Call \d+ (?:to|with) .+ (?:error|ended).*")










class Linphone:
    def __init__(self, work: Path, host: str, port: int, user: str, password: str, audio: Path,
                 sip_port: int, rtp_port: int, auto_answer: bool):
        self.work, self.host, self.port, self.user, self.password = work, host, port, user, password
        self.sip_port, self.rtp_port, self.auto_answer = sip_port, rtp_port, auto_answer
        self.home = work / "home"
        self.rc = work / "linphonerc"
        self.out = work / "linphonec.out"
        self.debug = work / "linphone-debug.log"
        # play/record paths go through linphonec's command line: keep them short
        self.short = Path(tempfile.mkdtemp(prefix="lph"))
        self.input = self.short / "in.wav"
        self.rx = self.short / "rx.wav"
        self.proc: subprocess.Popen | None = None
        self.fifo_fd: int | None = None
        (self.home / ".local" / "share" / "linphone").mkdir(parents=True, exist_ok=True)
        subprocess.run(["sox", str(audio), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer",
                        str(self.input)], check=True)

    def write_config(self) -> None:
        codecs = "".join(f"[audio_codec_{i}]\nmime={m}\nrate={r}\nchannels={c}\nenabled={e}\n\n"
                         for i, (m, r, c, e) in enumerate(CODECS))
        self.rc.write_text(f"""\
[sip]
sip_port={self.sip_port}
sip_tcp_port=0
sip_tls_port=0
bind_address=127.0.0.1
use_ipv6=0
default_proxy=0
use_rfc2833=1
use_info=0

[rtp]
audio_rtp_port={self.rtp_port}
video_rtp_port={self.rtp_port + 2}
text_rtp_port={self.rtp_port + 4}

[sound]
echocancellation=0

[video]
capture=0
display=0

[proxy_0]
reg_proxy=sip:{self.host}:{self.port}
reg_identity=sip:{self.user}@{self.host}:{self.port}
reg_expires=300
reg_sendregister=1

[auth_info_0]
username={self.user}
passwd={self.password}

{codecs}""")

    def start(self) -> None:
        self.write_config()
        self.fifo_fd = open_command_fifo(self.work)
        args = ["linphonec", "-c", str(self.rc), "-d", "6", "-l", str(self.debug)]
        if self.auto_answer:
            args.append("-a")
        env = dict(os.environ, HOME=str(self.home))
        with open(self.out, "wb") as out:
            self.proc = subprocess.Popen(args, stdin=self.fifo_fd, stdout=out, stderr=subprocess.STDOUT,
                                         cwd=self.work, env=env, start_new_session=True)
        (self.work / "linphonec.pid").write_text(str(self.proc.pid))

    def send(self, line: str) -> None:
        os.write(self.fifo_fd, (line + "\n").encode())

    def text(self) -> str:
        return read_output(self.out)

    def wait(self, rx: re.Pattern, timeout: float, poll: str | None = None) -> bool:
        deadline = time.monotonic() + timeout
        next_poll = 0.0
        while time.monotonic() < deadline:
            if rx.search(self.text()):
                return True
            if self.proc.poll() is not None:
                break
            if poll and time.monotonic() >= next_poll:
                self.send(poll)
                next_poll = time.monotonic() + 0.5
            time.sleep(0.1)
        return bool(rx.search(self.text()))

    def stop(self) -> None:
        stop_process(self.proc, self.fifo_fd, b"quit\n", grace=8)
        self.fifo_fd = None


def main(argv: list[str]) -> int:
    ap = argument_parser(__doc__.split("\n\n")[0])
    a = ap.parse_args(argv)

    if shutil.which("linphonec") is None:
        log("linphonec not installed (apt-get install linphone-cli)")
        return 1
    if not a.audio.is_file():
        log(f"cannot read {a.audio}")
        return 1
    caller = a.target is not None
    secs = a.secs if a.secs is not None else (8 if caller else 60)
    work = (a.work or Path(tempfile.mkdtemp(prefix=f"linphone-{a.user}."))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    sip_port = a.sip_port or pick_ports(37000, 37990, 1, tcp=False)
    rtp_port = a.rtp_port or pick_ports(38000, 39990, 6, tcp=False)
    ua = Linphone(work, a.host, a.port, a.user, a.password, a.audio, sip_port, rtp_port, auto_answer=not caller)
    stop = {"flag": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(flag=True))
    say(f"WORKDIR {work}")
    rc = 0
    try:
        ua.start()
        ua.send("soundcard use files")
        ua.send(f"play {ua.input}")
        ua.send(f"record {ua.rx}")
        if not ua.wait(RE_REGISTERED, a.reg_timeout, poll="status register"):
            log(f"registration failed, see {ua.out} and {ua.debug}")
            return 2
        say(f"REGISTERED sip:{a.user}@{a.host}:{a.port}")
        if caller:
            uri = a.target if a.target.startswith("sip:") else f"sip:{a.target}@{a.host}:{a.port}"
            ua.send(f"call {uri}")
            log(f"calling {uri}")
            if not ua.wait(RE_ESTABLISHED, 30) or RE_ENDED.search(ua.text()):
                log("call not established: " + " | ".join(RE_FAILED.findall(ua.text())))
                return 3
            say(f"CALL_ESTABLISHED {uri}")
            t0 = time.monotonic()
            if a.digits:
                time.sleep(1.0)
                for d in a.digits:
                    ua.send(d)          # a line of DTMF characters: sent as RFC 4733 events
                    time.sleep(1.2)     # linphonec plays about one digit per second
                    say(f"DTMF_SENT {d}")
            while time.monotonic() - t0 < secs and not stop["flag"] and not RE_ENDED.search(ua.text()):
                time.sleep(0.1)
            if RE_ENDED.search(ua.text()):
                log("the other side hung up first")
            else:
                ua.send("terminate")
            if ua.wait(RE_ENDED, 5):
                say("CALL_ENDED")
            else:
                log("no call end seen after terminate")
                rc = 4
        else:
            log(f"waiting up to {secs:.0f} s for a call to be answered and to end")
            t0 = time.monotonic()
            seen = False
            while time.monotonic() - t0 < secs and not stop["flag"]:
                if not seen and RE_ESTABLISHED.search(ua.text()):
                    say("CALL_ESTABLISHED")
                    seen = True
                if seen and RE_ENDED.search(ua.text()):
                    break
                time.sleep(0.1)
            for d in RE_DTMF_RECEIVED.findall(ua.text()):
                say(f"DTMF_RECEIVED {d}")
            if not seen:
                log("no call was established")
                rc = 3
            elif RE_ENDED.search(ua.text()):
                say("CALL_ENDED")
            else:
                log(f"the call did not end within {secs:.0f} s")
                rc = 4
    finally:
        ua.stop()
        for f in (ua.input, ua.rx):
            if f.exists():
                shutil.move(str(f), str(work / f.name))
        shutil.rmtree(ua.short, ignore_errors=True)
    rx = work / ua.rx.name
    if a.record is not None:
        if not rx.exists() or rx.stat().st_size <= 44:
            log("nothing recorded")
            return rc or 5
        shutil.copyfile(rx, a.record)
        say(f"RECORDED {a.record.resolve()}")
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
