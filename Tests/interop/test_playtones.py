"""Playtones over a real call: a SIPp caller reaches `Answer, Set(TONEZONE=de), Playtones(busy),
Wait(4), StopPlaytones, Wait(1), Hangup` and the RTP it receives from pbxd is German busy tone:
425 Hz, 480 ms on / 480 ms off (24 packets each), then, after StopPlaytones, nothing or silence
until pbxd's BYE."""
from __future__ import annotations

import socket
import struct
import time

import pytest

from callhelpers import answered_call, running_pbxd
from rtputil import decode_payload, silence
from audio import goertzel_power

TONES_DIALPLAN = """\
exten => 501,1,Answer()
 same => n,Set(TONEZONE=de)
 same => n,Playtones(busy)
 same => n,Wait(4)
 same => n,StopPlaytones()
 same => n,Wait(1)
 same => n,Hangup()
"""


@pytest.fixture
def tones_pbxd(request, procs, artifacts):
    yield from running_pbxd(request, procs, artifacts, extensions=TONES_DIALPLAN)










def test_playtones_busy_cadence_then_stop(tones_pbxd, procs, artifacts):
    pbxd, cap = tones_pbxd
    uac, rtp, _, pbx_port = answered_call(pbxd, cap, procs, artifacts, "501")
    try:
        packets: list[tuple[float, bytes]] = []
        seq = 1
        deadline = time.monotonic() + 7
        while time.monotonic() < deadline and uac.proc.poll() is None:
            rtp.sendto(silence(seq, 0x1001), ("127.0.0.1", pbx_port))
            seq += 1
            try:
                pkt, src = rtp.recvfrom(2048)
            except socket.timeout:
                continue
            except OSError:
                break
            if src == ("127.0.0.1", pbx_port) and len(pkt) == 172 and (pkt[1] & 0x7F) in (0, 8):
                packets.append((time.monotonic(), pkt))
        result = uac.wait()
    finally:
        rtp.close()
    assert result.rc == 0, "the caller did not get pbxd's BYE\n" + result.describe()
    assert len(packets) >= 150, f"only {len(packets)} tone packets\n" + pbxd.log_tail()

    # In sequence order, each packet is tone or silence; runs alternate 24 on / 24 off.
    packets.sort(key=lambda p: struct.unpack("!H", p[1][2:4])[0])
    samples = [decode_payload(p) for _, p in packets]
    on = [max(abs(v) for v in s) > 1000 for s in samples]
    runs: list[tuple[bool, int]] = []
    for v in on:
        if runs and runs[-1][0] == v:
            runs[-1] = (v, runs[-1][1] + 1)
        else:
            runs.append((v, 1))
    assert runs[0] == (True, 24), runs
    full = [r for r in runs[1:-1]]
    assert len(full) >= 5 and all(n == 24 for _, n in full), runs
    tone = [v for s, o in zip(samples, on) if o for v in s]
    p425, p480, p1000 = goertzel_power(tone, 8000, 425), goertzel_power(tone, 8000, 480), goertzel_power(tone, 8000, 1000)
    assert p425 > 100 * p480 and p425 > 100 * p1000, (p425, p480, p1000)

    # StopPlaytones after 4 s: no tone packet arrives more than ~4.5 s after the first.
    t0 = packets[0][0]
    late = [t - t0 for (t, _), o in zip(packets, on) if o and t - t0 > 4.6]
    assert not late, f"tone still playing {late[:3]} s after it started"
