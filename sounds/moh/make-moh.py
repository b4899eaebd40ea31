#!/usr/bin/env python3
"""Generates pbxd's tiny default music-on-hold class into sounds/moh/: two 2-second chords
(8 kHz, mono, 16-bit PCM WAV) with soft attack and release, so the loop is audible but small.
Deterministic: re-running produces identical files."""
import math, os, struct, wave

HERE = os.path.dirname(os.path.abspath(__file__))
RATE = 8000

def chord(name, freqs, seconds=2.0, amplitude=3000):
    n = int(RATE * seconds)
    frames = bytearray()
    for i in range(n):
        env = min(1.0, i / 800, (n - i) / 800)
        v = sum(math.sin(2 * math.pi * f * i / RATE) for f in freqs) * amplitude * env / len(freqs)
        frames += struct.pack("<h", int(round(v)))
    with wave.open(os.path.join(HERE, name + ".wav"), "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(RATE)
        w.writeframes(bytes(frames))

chord("moh-1-c-major", [261.63, 329.63, 392.00])
chord("moh-2-f-major", [349.23, 440.00, 523.25])
