"""Media applications over real calls: a SIPp caller (digest auth) sets up the call and the
test's own UDP socket is the phone's RTP. Echo must send back the caller's 1 kHz µ-law tone
(measured with Goertzel) and end on `#`; Record must write a WAV holding the caller's tone
(its frequency measured from the file), ended by silence, or by `#`; Milliwatt must send a
1004 Hz tone; MusicOnHold must play the class's files (the repository's sounds/moh chords)
for its duration; SendDTMF must send RFC 4733 events the caller decodes as the digits."""
from __future__ import annotations

import math
import re
import socket
import struct
import time
import wave

import pytest

from callhelpers import answered_call, running_pbxd, wait_log
from capture import Capture
from pbxdproc import REPO, Pbxd
from rtputil import dtmf_packets, rtp_packet, ulaw, ulaw_decode
from audio import goertzel_power

MEDIA_DIALPLAN = """\
exten => 600,1,Answer()
 same => n,Echo()
 same => n,Hangup()
exten => 602,1,Answer()
 same => n,Record({path}/silence-%d.wav,2,20,q)
 same => n,NoOp(record status ${{RECORD_STATUS}} file ${{RECORDED_FILE}})
 same => n,Hangup()
exten => 603,1,Answer()
 same => n,Record({path}/hash.wav,0,20)
 same => n,NoOp(record status ${{RECORD_STATUS}} file ${{RECORDED_FILE}})
 same => n,Hangup()
exten => 601,1,Milliwatt()
exten => 604,1,Answer()
 same => n,MusicOnHold(default,2)
 same => n,Hangup()
exten => 605,1,Answer()
 same => n,Wait(0.3)
 same => n,SendDTMF(4#,200,120)
 same => n,Hangup()
"""


@pytest.fixture
def media_pbxd(request, procs, artifacts):
    """A pbxd with the extensions above in [internal] and the repository's sounds/."""
    recordings = artifacts / "recordings"
    recordings.mkdir(parents=True, exist_ok=True)
    def music_class(inst):
        (inst.config_dir / "musiconhold.conf").write_text(
            f"[default]\nmode=files\ndirectory={REPO / 'sounds' / 'moh'}\nsort=alpha\n")
    for inst, cap in running_pbxd(request, procs, artifacts, extensions=MEDIA_DIALPLAN.format(path=recordings),
                                  sounds=True, prepare=music_class):
        yield inst, cap, recordings


def tone_payload(index: int, freq: float | None, amplitude: float = 8000) -> bytes:
    if freq is None:
        return b"\xff" * 160
    return bytes(ulaw(int(round(amplitude * math.sin(2 * math.pi * freq * (index * 160 + i) / 8000))))
                 for i in range(160))


class Call:
    """A SIPp call to `exten`, with the test's socket as the caller's RTP."""

    def __init__(self, pbxd: Pbxd, cap: Capture, procs, artifacts, exten: str,
                 scenario: str = "ivr_uac_rtp_wait_bye.xml", hold_ms: int = 1000):
        self.uac, self.rtp, answer, self.port = answered_call(
            pbxd, cap, procs, artifacts, exten, scenario=scenario, hold_ms=hold_ms, timeout=30, socket_timeout=0.002)
        te = re.search(r"(?m)^a=rtpmap:(\d+) telephone-event/8000", answer)
        assert te, "pbxd's answer offers no telephone-event\n" + answer
        self.event_pt = int(te.group(1))
        self.seq = 1
        self.received: list[bytes] = []

    def drain(self) -> None:
        while True:
            try:
                pkt, src = self.rtp.recvfrom(2048)
            except (socket.timeout, BlockingIOError):
                return
            if src == ("127.0.0.1", self.port):
                self.received.append(pkt)

    def send_audio(self, seconds: float, freq: float | None) -> None:
        """Sends 20 ms µ-law frames in real time, collecting what pbxd sends meanwhile."""
        start = time.monotonic()
        for k in range(int(seconds * 50)):
            self.rtp.sendto(rtp_packet(self.seq, 0x1001, tone_payload(k, freq), marker=self.seq == 1), ("127.0.0.1", self.port))
            self.seq += 1
            while time.monotonic() < start + (k + 1) * 0.02:
                self.drain()

    def press(self, digit: int) -> None:
        for pkt in dtmf_packets(digit, self.event_pt, 0x1001, self.seq, self.seq * 160):
            self.rtp.sendto(pkt, ("127.0.0.1", self.port))
            self.seq += 1
            time.sleep(0.02)
            self.drain()

    def finish(self):
        result = self.uac.wait()
        self.rtp.close()
        return result


def test_echo_returns_the_callers_tone(media_pbxd, procs, artifacts):
    pbxd, cap, _ = media_pbxd
    call = Call(pbxd, cap, procs, artifacts, "600")
    assert wait_log(pbxd, r"Executing \[600@internal:2\] Echo", 5), pbxd.log_tail()
    call.send_audio(1.5, 1000)
    echoed = [p for p in call.received if (p[1] & 0x7F) == 0 and len(p) == 172]
    assert len(echoed) >= 50, f"only {len(echoed)} µ-law packets echoed of 75 sent\n" + pbxd.log_tail()
    assert all(struct.unpack("!I", p[8:12])[0] != 0x1001 for p in echoed), "echo kept the caller's SSRC"
    samples = [float(ulaw_decode(b)) for p in echoed[-40:] for b in p[12:]]
    on, off = goertzel_power(samples, 8000, 1000), goertzel_power(samples, 8000, 1400)
    assert on > 100 * off and on > 1e5, f"echoed audio is not the 1 kHz tone: {on:.3g} vs {off:.3g}"
    # `#` ends Echo; the dialplan hangs up and the caller gets the BYE.
    mark = len(pbxd.log_text())
    call.press(11)
    assert wait_log(pbxd, r"Executing \[600@internal:3\] Hangup", 5, after=mark), pbxd.log_tail(40)
    result = call.finish()
    assert result.rc == 0, result.describe()


def measured_frequency(samples: list[int]) -> float:
    """Zero crossings of the loud part → frequency."""
    crossings = sum(1 for a, b in zip(samples, samples[1:]) if (a < 0) != (b < 0))
    return crossings / 2 / (len(samples) / 8000)


def read_wav(path) -> list[int]:
    with wave.open(str(path), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        frames = w.readframes(w.getnframes())
    return list(struct.unpack(f"<{len(frames) // 2}h", frames))


def test_record_ends_on_silence(media_pbxd, procs, artifacts):
    pbxd, cap, recordings = media_pbxd
    call = Call(pbxd, cap, procs, artifacts, "602")
    assert wait_log(pbxd, r"Executing \[602@internal:2\] Record", 5), pbxd.log_tail()
    time.sleep(0.1)
    call.send_audio(1.0, 1000)
    call.send_audio(3.0, None)  # 2 s of silence end it
    done = wait_log(pbxd, r"record status (\w+) file ([^\s\"]+)", 5)
    assert done, pbxd.log_tail(40)
    assert done.group(1) == "SILENCE" and done.group(2) == str(recordings / "silence-0"), done.group(0)
    result = call.finish()
    assert result.rc == 0, result.describe()
    samples = read_wav(recordings / "silence-0.wav")
    loud = [s for s in samples if abs(s) > 1000]
    assert len(loud) > 4000, f"only {len(loud)} loud samples in {len(samples)}"
    first = next(i for i, s in enumerate(samples) if abs(s) > 1000)
    tone = samples[first:first + 7000]
    freq = measured_frequency(tone)
    assert abs(freq - 1000) < 15, f"recorded tone at {freq:.1f} Hz"
    assert goertzel_power([float(s) for s in tone], 8000, 1000) > 100 * goertzel_power([float(s) for s in tone], 8000, 1400)
    # Ended by 2 s of silence after the tone, of which 1 s is kept (as Asterisk trims it):
    # about 1 s of tone + 1 s of silence, well before the 20 s limit.
    assert 8000 * 1.9 <= len(samples) <= 8000 * 2.6, f"{len(samples) / 8000:.2f} s recorded"
    assert all(abs(s) < 50 for s in samples[-8000 + 400:]), "the kept second after the tone is not silent"


def test_record_ends_on_hash(media_pbxd, procs, artifacts):
    pbxd, cap, recordings = media_pbxd
    call = Call(pbxd, cap, procs, artifacts, "603")
    assert wait_log(pbxd, r"Executing \[603@internal:2\] Record", 5), pbxd.log_tail()
    call.send_audio(1.0, 440)  # during the beep: recording starts after it
    call.send_audio(1.5, 440)
    call.press(11)
    done = wait_log(pbxd, r"record status (\w+) file ([^\s\"]+)", 5)
    assert done and done.group(1) == "DTMF", pbxd.log_tail(40)
    result = call.finish()
    assert result.rc == 0, result.describe()
    samples = read_wav(recordings / "hash.wav")
    assert len(samples) >= 8000, f"{len(samples)} samples"
    freq = measured_frequency(samples[-8000:])
    assert abs(freq - 440) < 10, f"recorded tone at {freq:.1f} Hz"


def listen(call: Call, seconds: float) -> None:
    """Sends silence (symmetric RTP, as a phone) and collects what pbxd sends."""
    call.send_audio(seconds, None)


def audio_of(packets: list[bytes]) -> list[float]:
    return [float(ulaw_decode(b)) for p in packets if (p[1] & 0x7F) == 0 for b in p[12:]]


def test_milliwatt_sends_1004_hz(media_pbxd, procs, artifacts):
    pbxd, cap, _ = media_pbxd
    call = Call(pbxd, cap, procs, artifacts, "601", scenario="call_uac_rtp.xml", hold_ms=2500)
    listen(call, 1.5)
    samples = audio_of(call.received)
    assert len(samples) >= 160 * 50, f"{len(samples)} samples of Milliwatt\n" + pbxd.log_tail()
    tail = samples[-8000:]
    on, off = goertzel_power(tail, 8000, 1004), goertzel_power(tail, 8000, 1400)
    assert on > 100 * off and on > 1e7, f"1004 Hz {on:.3g} vs 1400 Hz {off:.3g}"
    assert abs(measured_frequency([int(x) for x in tail]) - 1004) < 10
    result = call.finish()  # the caller hangs up; pbxd answers its BYE
    assert result.rc == 0, result.describe()


def test_music_on_hold_plays_the_class_for_its_duration(media_pbxd, procs, artifacts):
    pbxd, cap, _ = media_pbxd
    call = Call(pbxd, cap, procs, artifacts, "604")
    assert wait_log(pbxd, r"Executing \[604@internal:2\] MusicOnHold", 5), pbxd.log_tail()
    started = time.monotonic()
    listen(call, 1.5)
    samples = audio_of(call.received)
    assert len(samples) >= 160 * 50, f"{len(samples)} samples of music\n" + pbxd.log_tail()
    # The first file is a C major chord (261.63, 329.63, 392 Hz).
    part = samples[-4000:]
    chord = goertzel_power(part, 8000, 261.63) + goertzel_power(part, 8000, 329.63) + goertzel_power(part, 8000, 392.0)
    assert chord > 100 * goertzel_power(part, 8000, 1000), f"no C major chord: {chord:.3g}"
    # After 2 s the dialplan goes on to Hangup: the caller gets the BYE.
    assert wait_log(pbxd, r"Executing \[604@internal:3\] Hangup", 3), pbxd.log_tail(40)
    assert time.monotonic() - started < 3.5
    result = call.finish()
    assert result.rc == 0, result.describe()


def test_send_dtmf_reaches_the_caller(media_pbxd, procs, artifacts):
    pbxd, cap, _ = media_pbxd
    call = Call(pbxd, cap, procs, artifacts, "605")
    listen(call, 1.5)
    events = [p for p in call.received if (p[1] & 0x7F) == call.event_pt]
    assert events, "no telephone-event packets from pbxd\n" + pbxd.log_tail()
    digits = []
    seen_ends = set()
    for p in events:
        ts = struct.unpack("!I", p[4:8])[0]
        event, flags, duration = struct.unpack("!BBH", p[12:16])
        if flags & 0x80 and ts not in seen_ends:
            seen_ends.add(ts)
            digits.append("0123456789*#"[event])
            assert duration == 960, f"key of {duration} samples, not 120 ms"
    assert digits == ["4", "#"], f"decoded {digits}"
    result = call.finish()
    assert result.rc == 0, result.describe()
