"""The sample voice menu (conf/extensions.conf `[ivr-main]`, reached from 500) over real calls.

Each test starts pbxd with the repository's own extensions.conf and sounds/, with three
`[globals]` of the menu rewritten in the copy: `IVR_HOURS` names today's weekday (open) or
another one (closed) — the real clock decides, nothing is faked —, `IVR_WAIT=1` and
`IVR_TRIES=2` so that the retry paths end within seconds. The caller is SIPp (1001, digest
auth) whose RTP is a socket of the test (`Phone`): it sends 20 ms of silence every 20 ms as a
phone does, keeps every packet pbxd sends, and presses keys as RFC 4733 events or in-band tones.

- The received audio is compared with the prompt files sample by sample (`occurrences`): the
  WAV's samples are µ-law encoded as pbxd encodes them (G.711, rtputil.ulaw), located in the
  received stream and compared byte for byte; another prompt must not be found.
- DTMF as RFC 4733, SIP INFO (application/dtmf-relay and application/dtmf) and in-band tones
  each selects its branch: the SIPp UAS registered as that branch's peer (811 for sales, 1002
  for support, 1001 for the operator) gets the INVITE (it answers 486, so the call ends).
- No key: the menu replays `IVR_TRIES` times with "please try again", then "goodbye" and BYE;
  a wrong key the same with "not a valid extension".
- Closed: the after-hours message, goodbye, BYE, and no menu."""
from __future__ import annotations

import re
import socket
import threading
import time
import wave
from array import array
from datetime import datetime

import pytest

import netutil
from callhelpers import answered_call, callee, register, running_pbxd, wait_log
from pbxdproc import REPO
from rtputil import dtmf_packets, inband_dtmf_packets, silence, ulaw

SAMPLE = REPO / "conf" / "extensions.conf"
SOUNDS = REPO / "sounds" / "en"
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]          # datetime.weekday() order
GREETING = "ivr-menu"


def sample_dialplan(*, open_now: bool, wait: int = 1, tries: int = 2) -> str:
    """conf/extensions.conf with the menu's globals set for a test."""
    today = datetime.now().weekday()
    day = DAYS[today] if open_now else DAYS[(today + 3) % 7]
    text = SAMPLE.read_text()
    for name, value in (("IVR_HOURS", f"*,{day},*,*"), ("IVR_WAIT", str(wait)), ("IVR_TRIES", str(tries))):
        text, n = re.subn(rf"(?m)^{name}=.*$", f"{name}={value}", text)
        assert n == 1, f"{name} is not in [globals] of {SAMPLE}"
    return text


@pytest.fixture
def menu(request, procs, artifacts):
    """pbxd with the sample dialplan; `request.param` may set open (default True) and the
    caller's dtmfmode (default rfc2833)."""
    opts = getattr(request, "param", {})

    def install(inst):
        (inst.config_dir / "extensions.conf").write_text(sample_dialplan(open_now=opts.get("open", True)))
        # The menu's 1 is the sample queue 600.
        (inst.config_dir / "queues.conf").write_text((REPO / "conf" / "queues.conf").read_text())
    yield from running_pbxd(request, procs, artifacts, peers={"1001": {"dtmfmode": opts.get("dtmfmode", "rfc2833")}},
                            sounds=True, prepare=install)


# -- the caller's RTP ---------------------------------------------------------------------------

class Phone:
    """The caller's media: every 20 ms one packet (µ-law silence, or the next queued key
    packet) to pbxd's port from the test's socket, and every packet from that port kept."""

    def __init__(self, sock: socket.socket, pbx_port: int, ssrc: int = 0x1001):
        self.sock, self.dest, self.ssrc = sock, ("127.0.0.1", pbx_port), ssrc
        self.sock.settimeout(0.005)
        self.received: list[bytes] = []
        self.queue: list[bytes] = []
        self.seq = 1
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        due = time.monotonic()
        while not self.done.is_set():
            if time.monotonic() >= due:
                with self.lock:
                    pkt = self.queue.pop(0) if self.queue else silence(self.seq, self.ssrc)
                    self.seq += 1
                try:
                    self.sock.sendto(pkt, self.dest)
                except OSError:
                    return
                due += 0.02
            try:
                pkt, src = self.sock.recvfrom(2048)
            except socket.timeout:
                continue
            except OSError:
                return
            if src == self.dest and len(pkt) > 12:
                self.received.append(pkt)

    def press_rfc4733(self, digit: str, event_pt: int) -> None:
        with self.lock:
            seq = self.seq + len(self.queue)
            self.queue += dtmf_packets(int(digit), event_pt, self.ssrc, seq, seq * 160)

    def press_inband(self, digit: str) -> None:
        with self.lock:
            self.queue += inband_dtmf_packets(digit, self.seq + len(self.queue), self.ssrc)

    def stop(self) -> None:
        self.done.set()
        self.thread.join(timeout=2)


def follow_call(phone: Phone, uac, timeout: float = 40) -> None:
    """Lets the call run until the caller's scenario ends (pbxd's BYE answered), then stops the phone."""
    deadline = time.monotonic() + timeout
    while uac.proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    phone.stop()


# -- comparing audio with the prompt files ------------------------------------------------------

def prompt_ulaw(name: str) -> bytes:
    """The prompt's samples (16-bit WAV) µ-law encoded, as pbxd sends them."""
    with wave.open(str(SOUNDS / f"{name}.wav"), "rb") as w:
        assert (w.getsampwidth(), w.getnchannels(), w.getframerate()) == (2, 1, 8000), name
        samples = array("h")
        samples.frombytes(w.readframes(w.getnframes()))
    return bytes(ulaw(s) for s in samples)


MISSING = 0x00   # stands for samples of lost packets (never compared)


def received_stream(packets: list[bytes]) -> tuple[bytes, bytearray]:
    """pbxd's PCMU packets laid out by sequence number: the bytes and a mask of positions heard."""
    audio = [p for p in packets if (p[1] & 0x7F) == 0]
    assert audio, "pbxd sent no PCMU audio"
    first = int.from_bytes(audio[0][2:4], "big")
    frames: dict[int, bytes] = {}
    for p in audio:
        frames[(int.from_bytes(p[2:4], "big") - first) & 0xFFFF] = p[12:]
    size = max(len(f) for f in frames.values())
    out, heard = bytearray(), bytearray()
    for i in range(max(frames) + 1):
        f = frames.get(i)
        out += f if f is not None else bytes([MISSING]) * size
        heard += (b"\x01" if f is not None else b"\x00") * (len(f) if f is not None else size)
    return bytes(out), heard


def occurrences(name: str, stream: bytes, heard: bytearray) -> list[tuple[int, int, int]]:
    """Where prompt `name` plays in the stream: (offset, samples compared, samples equal) for
    each place one of its distinctive 20 ms stretches is found (every stretch is tried, so a
    lost packet does not hide a play)."""
    prompt = prompt_ulaw(name)
    found: list[tuple[int, int, int]] = []
    for start in range(0, len(prompt) - 160, 160):
        piece = prompt[start:start + 160]
        if len(set(piece)) < 40:              # silence or near-silence: not distinctive
            continue
        pos = stream.find(piece)
        while pos >= 0:
            offset = pos - start
            if offset >= 0 and all(abs(offset - o) >= 160 for o, _, _ in found):
                compared = equal = 0
                for i, code in enumerate(prompt):
                    j = offset + i
                    if j < len(stream) and heard[j]:
                        compared += 1
                        equal += stream[j] == code
                found.append((offset, compared, equal))
            pos = stream.find(piece, pos + 1)
    return sorted(found)


def assert_played(name: str, stream: bytes, heard: bytearray, times: int) -> list[int]:
    """`name` played exactly `times` times, each time at least 95 % heard and every heard sample
    equal to the file's; returns the offsets."""
    found = occurrences(name, stream, heard)
    length = len(prompt_ulaw(name))
    assert len(found) == times, f"{name} played {len(found)} times, want {times}: {found}"
    for offset, compared, equal in found:
        assert compared >= 0.95 * length, f"{name} at {offset}: only {compared} of {length} samples received"
        assert equal == compared, f"{name} at {offset}: {compared - equal} of {compared} samples differ from the file"
    return [o for o, _, _ in found]


def executed(pbxd, pattern: str) -> list[str]:
    return re.findall(rf"Executing \[{pattern}", pbxd.log_text())


# -- tests --------------------------------------------------------------------------------------

def test_greeting_is_the_prompt_file_and_no_key_retries_then_goodbye(menu, procs, artifacts):
    """Open hours, no key: greeting, "please try again", greeting, "please try again", goodbye,
    BYE. Every prompt arrives sample for sample; a prompt that was not played is not found,
    and the greeting's samples compared against another prompt's do not match."""
    pbxd, cap = menu
    uac, rtp, _, pbx_port = answered_call(pbxd, cap, procs, artifacts, "500", timeout=40, socket_timeout=0.005)
    phone = Phone(rtp, pbx_port)
    try:
        follow_call(phone, uac)
        result = uac.wait()
    finally:
        phone.stop()
        rtp.close()
    assert result.rc == 0, "no BYE from pbxd after the retries\n" + result.describe() + pbxd.log_tail(40)
    stream, heard = received_stream(phone.received)
    greetings = assert_played(GREETING, stream, heard, 2)
    assert_played("please-try-again", stream, heard, 2)
    assert_played("vm-goodbye", stream, heard, 1)
    assert occurrences("ivr-after-hours", stream, heard) == []
    other = prompt_ulaw("ivr-after-hours")
    same = sum(stream[greetings[0] + i] == c for i, c in enumerate(other[:len(prompt_ulaw(GREETING))]))
    assert same < 0.2 * len(other), f"the greeting matches another prompt in {same} samples"
    assert len(executed(pbxd, r"t@ivr-main:1\]")) == 2 and len(executed(pbxd, r"s@ivr-main:\d+\] Background")) == 2, \
        pbxd.log_tail(60)
    assert re.search(r"IVR SIP/1001-\S+: 2 failed tries, goodbye", pbxd.log_text()), pbxd.log_tail(40)
    assert not executed(pbxd, r"[i012o]@ivr-main:1\]"), pbxd.log_tail(40)


def test_wrong_key_retries_then_goodbye(menu, procs, artifacts):
    """Open hours, 9 pressed (RFC 4733) during each greeting: "not a valid extension" twice, goodbye, BYE."""
    pbxd, cap = menu
    uac, rtp, answer, pbx_port = answered_call(pbxd, cap, procs, artifacts, "500", timeout=40, socket_timeout=0.005)
    event_pt = int(re.search(r"(?m)^a=rtpmap:(\d+) telephone-event/8000", answer).group(1))
    phone = Phone(rtp, pbx_port)
    try:
        for attempt in range(2):
            mark = len(pbxd.log_text())
            assert wait_log(pbxd, r"Executing \[s@ivr-main:\d+\] Background", 15, after=mark if attempt else 0), \
                pbxd.log_tail(40)
            time.sleep(0.5)
            phone.press_rfc4733("9", event_pt)
            assert wait_log(pbxd, r"invalid key 9", 5, after=mark), pbxd.log_tail(40)
        follow_call(phone, uac)
        result = uac.wait()
    finally:
        phone.stop()
        rtp.close()
    assert result.rc == 0, "no BYE from pbxd after the wrong keys\n" + result.describe()
    stream, heard = received_stream(phone.received)
    assert_played("pbx-invalid", stream, heard, 2)
    assert_played("vm-goodbye", stream, heard, 1)
    assert len(re.findall(r"\[Dialplan\] IVR SIP/1001-\S+: invalid key 9", pbxd.log_text())) == 2, pbxd.log_tail(40)
    assert re.search(r"2 failed tries, goodbye", pbxd.log_text()) and not executed(pbxd, r"t@ivr-main:1\]"), pbxd.log_tail(40)


@pytest.mark.parametrize("menu", [{"open": False}], indirect=True)
def test_after_hours_message(menu, procs, artifacts):
    """IVR_HOURS names another weekday: the after-hours message, goodbye, BYE; no menu."""
    pbxd, cap = menu
    uac, rtp, _, pbx_port = answered_call(pbxd, cap, procs, artifacts, "500", timeout=30, socket_timeout=0.005)
    phone = Phone(rtp, pbx_port)
    try:
        follow_call(phone, uac)
        result = uac.wait()
    finally:
        phone.stop()
        rtp.close()
    assert result.rc == 0, "no BYE from pbxd after the after-hours message\n" + result.describe()
    stream, heard = received_stream(phone.received)
    assert_played("ivr-after-hours", stream, heard, 1)
    assert_played("vm-goodbye", stream, heard, 1)
    assert occurrences(GREETING, stream, heard) == []
    assert re.search(r"IVR SIP/1001-\S+: after hours", pbxd.log_text()), pbxd.log_tail(40)
    assert not executed(pbxd, r"s@ivr-main:\d+\] Background"), pbxd.log_tail(40)


# (method, key, the peer the branch rings, the caller's dtmfmode). 1 is queue 600, whose agent
# answers and hangs up (a busy agent would only make the queue try again); the others are
# Dial()s to a phone that answers busy. Either way pbxd then hangs the caller up.
KEY_CASES = [
    ("rfc4733", "1", "811", "rfc2833"),
    ("info-dtmf-relay", "2", "1002", "rfc2833"),
    ("info-dtmf", "0", "1001", "rfc2833"),
    ("inband", "2", "1002", "inband"),
]
BRANCH_SCENARIO = {"811": "uas_answer_hangup.xml"}


@pytest.mark.parametrize("menu,method,key,peer", [({"dtmfmode": mode}, method, key, peer)
                                                   for method, key, peer, mode in KEY_CASES],
                         indirect=["menu"], ids=[c[0] for c in KEY_CASES])
def test_key_selects_branch(menu, procs, artifacts, method, key, peer):
    """The key, pressed during the greeting, rings the branch's peer: a SIPp UAS registered as
    that peer gets the INVITE (and answers busy, or as a queue agent answers and hangs up,
    which ends the call with pbxd's BYE)."""
    pbxd, cap = menu
    port = netutil.free_port()
    reg = register(pbxd, procs, artifacts, peer, port)
    assert reg.rc == 0, f"{peer} could not register\n" + reg.describe()
    # The agent stays long enough for the agent-number announcement and the bridge.
    uas = callee(pbxd, procs, artifacts, peer, port, BRANCH_SCENARIO.get(peer, "uas_busy.xml"), timeout=30,
                 hold_ms=6000, tag=f"uas-{peer}")
    info = {"info-dtmf-relay": ("application/dtmf-relay", f"Signal={key}"), "info-dtmf": ("application/dtmf", key)}
    if method in info:
        kind, body = info[method]
        uac, rtp, _, pbx_port = answered_call(pbxd, cap, procs, artifacts, "500", scenario="ivr_uac_info_digit.xml",
                                              timeout=30, socket_timeout=0.005,
                                              keys={"info_type": kind, "info_body": body})
    else:
        uac, rtp, answer, pbx_port = answered_call(pbxd, cap, procs, artifacts, "500", timeout=30, socket_timeout=0.005)
    phone = Phone(rtp, pbx_port)
    try:
        assert wait_log(pbxd, r"Executing \[s@ivr-main:\d+\] Background", 10), pbxd.log_tail(40)
        time.sleep(0.5)
        if method == "rfc4733":
            phone.press_rfc4733(key, int(re.search(r"(?m)^a=rtpmap:(\d+) telephone-event/8000", answer).group(1)))
        elif method == "inband":
            phone.press_inband(key)
        branch = "o" if key == "0" else key
        assert wait_log(pbxd, rf"Executing \[{branch}@ivr-main:1\]", 8), \
            f"key {key} sent as {method} did not select its branch\n" + pbxd.log_tail(40)
        uas_result = uas.wait()
        follow_call(phone, uac)
        result = uac.wait()
    finally:
        phone.stop()
        rtp.close()
    assert uas_result.rc == 0, f"{peer} (the branch of key {key}) did not get the INVITE\n" + uas_result.describe()
    assert result.rc == 0, "no BYE from pbxd after the branch's call ended\n" + result.describe()
    others = {"1", "2", "o", "i", "t"} - {branch}
    assert not any(executed(pbxd, rf"{b}@ivr-main:1\]") for b in others), pbxd.log_tail(40)
    # The key cut the greeting short: WaitExten never ran.
    assert not executed(pbxd, r"s@ivr-main:\d+\] WaitExten"), pbxd.log_tail(40)
