"""RTP packets the interop tests send as a phone would: G.711 audio and silence, RFC 4733
telephone-events, and µ-law encoding for tones made in Python."""
from __future__ import annotations

import math
import struct


def rtp_packet(seq: int, ssrc: int, payload: bytes, pt: int = 0, marker: bool = False, ts: int | None = None) -> bytes:
    """An RTP packet; the timestamp defaults to 160 samples per sequence number (20 ms G.711)."""
    timestamp = (seq * 160 if ts is None else ts) & 0xFFFFFFFF
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF, timestamp, ssrc) + payload


def silence(seq: int, ssrc: int) -> bytes:
    """20 ms of µ-law silence."""
    return rtp_packet(seq, ssrc, b"\xff" * 160)


def dtmf_packets(digit: int, pt: int, ssrc: int, seq0: int, ts: int) -> list[bytes]:
    """One RFC 4733 event: 6 updates 20 ms apart, then the end packet sent three times."""
    out = []
    for i in range(9):
        end = i >= 6
        duration = 160 * (i + 1) if not end else 160 * 7
        header = struct.pack("!BBHII", 0x80, (0x80 if i == 0 else 0) | pt, (seq0 + i) & 0xFFFF, ts, ssrc)
        out.append(header + struct.pack("!BBH", digit, (0x80 if end else 0) | 10, duration))
    return out


# The DTMF keys' row and column frequencies (ITU-T Q.23).
DTMF_FREQUENCIES = {
    "1": (697, 1209), "2": (697, 1336), "3": (697, 1477), "A": (697, 1633),
    "4": (770, 1209), "5": (770, 1336), "6": (770, 1477), "B": (770, 1633),
    "7": (852, 1209), "8": (852, 1336), "9": (852, 1477), "C": (852, 1633),
    "*": (941, 1209), "0": (941, 1336), "#": (941, 1477), "D": (941, 1633),
}


def inband_dtmf_packets(key: str, seq0: int, ssrc: int) -> list[bytes]:
    """A key as a phone without telephone-event sends it: its dual tone for 120 ms (each
    frequency at -12 dBFS), then 100 ms of silence, as µ-law RTP packets from `seq0` on."""
    low, high = DTMF_FREQUENCIES[key]
    out = []
    for i in range(11):
        payload = bytes(
            ulaw(8000 * (math.sin(2 * math.pi * low * n / 8000) + math.sin(2 * math.pi * high * n / 8000)))
            if i < 6 else 0xFF
            for n in range(i * 160, (i + 1) * 160))
        out.append(rtp_packet(seq0 + i, ssrc, payload))
    return out


def ulaw(sample: float) -> int:
    """G.711 µ-law of a linear sample in [-32768, 32767]."""
    bias, clip = 0x84, 32635
    x = int(max(-clip, min(clip, sample)))
    sign = 0x80 if x < 0 else 0
    x = min(abs(x) + bias, 0x7FFF)
    exponent = max(0, x.bit_length() - 8)
    mantissa = (x >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def ulaw_decode(code: int) -> int:
    """The linear sample of a G.711 µ-law byte."""
    code = ~code & 0xFF
    value = (((code & 0x0F) << 3) + 0x84) << ((code & 0x70) >> 4)
    return (0x84 - value) if code & 0x80 else (value - 0x84)


def alaw_decode(code: int) -> int:
    """The linear sample of a G.711 A-law byte."""
    code ^= 0x55
    value = (code & 0x0F) << 4
    segment = (code & 0x70) >> 4
    if segment == 0:
        value += 8
    elif segment == 1:
        value += 0x108
    else:
        value = (value + 0x108) << (segment - 1)
    return value if code & 0x80 else -value


def decode_payload(packet: bytes) -> list[int]:
    """The linear samples of a G.711 RTP packet (PT 8 is A-law, anything else µ-law)."""
    decode = alaw_decode if (packet[1] & 0x7F) == 8 else ulaw_decode
    return [decode(b) for b in packet[12:]]
