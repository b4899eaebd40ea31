"""MixMonitor over real calls through pbxd's relay.

- test_mixmonitor_records_both_directions: a SIPp caller 1001 dials 702
  (`MixMonitor(...,r(...)t(...))` then `Dial(SIP/1002)`); the caller's RTP socket sends a 1000 Hz
  tone, the callee's a 440 Hz tone (G.711 µ-law, 20 ms packets, ~3 s). After the hangup the mixed
  WAV under <datadir>/recordings/YYYY/MM/DD/ holds both tones (Goertzel), the r() file only the
  caller's and the t() file only the callee's; MIXMONITOR_FILENAME names the mixed file.
- test_stopmixmonitor_mid_call: 703 answers, starts MixMonitor, waits 2 s, StopMixMonitor, waits
  2 s more while the caller keeps sending its tone: the file holds about 2 s, not 4.
"""
from __future__ import annotations

import math
import re
import socket
import time
import wave
from datetime import datetime
from pathlib import Path

import pytest

import netutil
from audio import goertzel_power, read_mono
from callhelpers import answered_call, caller, callee, register, running_pbxd, wait_log, wait_sip
from rtputil import rtp_packet, ulaw
from sipphelpers import sdp_media

DIALPLAN = """\
exten => 702,1,MixMonitor(call-${UNIQUEID}.wav,r(call-${UNIQUEID}-rx.wav)t(call-${UNIQUEID}-tx.wav))
 same => n,NoOp(REC=${MIXMONITOR_FILENAME})
 same => n,Dial(SIP/1002,20)
exten => 703,1,Answer()
 same => n,MixMonitor(stop-${UNIQUEID})
 same => n,NoOp(REC=${MIXMONITOR_FILENAME})
 same => n,Wait(2)
 same => n,StopMixMonitor()
 same => n,Wait(2)
 same => n,Hangup()
"""


@pytest.fixture
def mix_pbxd(request, procs, artifacts):
    yield from running_pbxd(request, procs, artifacts, extensions=DIALPLAN)


def tone_packets(freq: float, ssrc: int, count: int, seq0: int = 1) -> list[bytes]:
    out = []
    for i in range(count):
        payload = bytes(ulaw(12000 * math.sin(2 * math.pi * freq * n / 8000)) for n in range(i * 160, (i + 1) * 160))
        out.append(rtp_packet(seq0 + i, ssrc, payload, ts=(seq0 + i) * 160))
    return out


def udp() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", netutil.free_port(tcp=False)))
    s.setblocking(False)
    return s


def drain(*socks):
    for s in socks:
        try:
            while True:
                s.recvfrom(2048)
        except (BlockingIOError, OSError):
            pass


def recorded_path(pbxd, timeout: float = 10) -> Path:
    m = wait_log(pbxd, r"REC=(\S+\.wav)", timeout)
    assert m, "MixMonitor set no MIXMONITOR_FILENAME\n" + pbxd.log_tail(40)
    path = Path(m.group(1))
    today = datetime.now().strftime("%Y/%m/%d")
    assert str(path).startswith(str(pbxd.data_dir / "recordings" / today)), path
    return path


def wait_closed(pbxd, path: Path) -> None:
    assert wait_log(pbxd, r"MixMonitor stopped", 10), "the recording was not stopped\n" + pbxd.log_tail(40)
    assert path.exists(), path


def tone_share(samples: list[float], freq: float) -> float:
    """Share of the mean square power at `freq` (a pure sine gives 1.0)."""
    ms = sum(v * v for v in samples) / len(samples)
    return 2 * goertzel_power(samples, 8000, freq) / ms if ms > 0 else 0.0


def middle(path: Path, seconds: float = 1.0) -> list[float]:
    x, rate = read_mono(path)
    assert rate == 8000, rate
    loud = [i for i, v in enumerate(x) if abs(v) > 0.01]
    assert loud, f"{path} is silent"
    body = x[loud[0]:loud[-1] + 1]
    mid = len(body) // 2
    return body[max(0, mid - int(rate * seconds / 2)): mid + int(rate * seconds / 2)]


def test_mixmonitor_records_both_directions(mix_pbxd, procs, artifacts):
    pbxd, cap = mix_pbxd
    a, b = udp(), udp()
    try:
        port = netutil.free_port()
        assert register(pbxd, procs, artifacts, "1002", port).rc == 0
        uas = callee(pbxd, procs, artifacts, "1002", port, "call_uas_rtp.xml", keys={"rtp_port": str(b.getsockname()[1])})
        uac = caller(pbxd, procs, artifacts, "1001", "702", "call_uac_rtp.xml", hold_ms=4500,
                     keys={"rtp_port": str(a.getsockname()[1])}).start()
        to_callee = wait_sip(cap, lambda s, d, t: t.startswith("INVITE ") and s == pbxd.sip_port, 10)
        to_caller = wait_sip(cap, lambda s, d, t: t.startswith("SIP/2.0 200") and "m=audio" in t
                             and re.search(r"(?m)^CSeq:\s*2 INVITE", t) is not None, 10)
        assert to_callee and to_caller, "the call was not set up\n" + pbxd.log_tail()
        pbx_b, pbx_a = sdp_media(to_callee[2])[1], sdp_media(to_caller[2])[1]
        assert wait_log(pbxd, r"bridged", 5), pbxd.log_tail()
        path = recorded_path(pbxd)
        caller_tone, callee_tone = tone_packets(1000, 0xA1, 150), tone_packets(440, 0xB2, 150)
        start = time.monotonic()
        for i in range(150):
            a.sendto(caller_tone[i], ("127.0.0.1", pbx_a))
            b.sendto(callee_tone[i], ("127.0.0.1", pbx_b))
            drain(a, b)
            time.sleep(max(0.0, start + (i + 1) * 0.02 - time.monotonic()))
        assert uac.wait().rc == 0 and uas.wait().rc == 0
    finally:
        a.close()
        b.close()
    wait_closed(pbxd, path)
    rx, tx = path.with_name(path.stem + "-rx.wav"), path.with_name(path.stem + "-tx.wav")
    for f in (path, rx, tx):
        with wave.open(str(f)) as w:
            assert (w.getframerate(), w.getsampwidth(), w.getnchannels()) == (8000, 2, 1), f
            assert w.getnframes() >= 2.5 * 8000, f"{f}: only {w.getnframes()} samples"
    mixed = middle(path)
    both = (tone_share(mixed, 1000), tone_share(mixed, 440))
    print(f"mixed: 1000 Hz share {both[0]:.2f}, 440 Hz share {both[1]:.2f}")
    assert both[0] > 0.3 and both[1] > 0.3, f"the mix lacks a tone: shares (1000 Hz, 440 Hz) = {both}"
    rx_s, tx_s = middle(rx), middle(tx)
    assert tone_share(rx_s, 1000) > 0.8 and tone_share(rx_s, 440) < 0.05, "r() file is not the caller's tone alone"
    assert tone_share(tx_s, 440) > 0.8 and tone_share(tx_s, 1000) < 0.05, "t() file is not the callee's tone alone"


def test_stopmixmonitor_mid_call(mix_pbxd, procs, artifacts):
    pbxd, cap = mix_pbxd
    uac, rtp, _, pbx_port = answered_call(pbxd, cap, procs, artifacts, "703")
    try:
        path = recorded_path(pbxd)
        packets = tone_packets(1000, 0xC3, 250)
        start = time.monotonic()
        for i, pkt in enumerate(packets):
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
    wait_closed(pbxd, path)
    with wave.open(str(path)) as w:
        seconds = w.getnframes() / 8000
    assert 1.5 <= seconds <= 2.6, f"StopMixMonitor after 2 s left {seconds:.2f} s of recording"
    assert tone_share(middle(path, 0.5), 1000) > 0.8
