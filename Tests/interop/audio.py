"""Audio helpers: make test tones with sox, measure what a UA recorded.

The measurement is our own (stdlib only): the WAV is read with `wave`, leading and
trailing silence is cut, and the strongest frequency is found with the Goertzel
algorithm (a coarse 10 Hz scan of 100-3800 Hz on 50 ms, then 0.5 Hz steps around the peak) over
a 1 s window from the middle of the sound. The level is the RMS in dBFS."""
from __future__ import annotations

import math
import subprocess
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path


def make_tone(path: Path, freq: float, seconds: float = 30, rate: int = 8000, vol: float = 0.5) -> Path:
    subprocess.run(["sox", "-n", "-r", str(rate), "-c", "1", "-b", "16", "-e", "signed-integer", str(path),
                    "synth", str(seconds), "sine", str(freq), "vol", str(vol)], check=True)
    return path


def read_mono(path: Path) -> tuple[list[float], int]:
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: {8 * w.getsampwidth()}-bit samples, want 16")
        n, ch, rate = w.getnframes(), w.getnchannels(), w.getframerate()
        data = array("h")
        data.frombytes(w.readframes(n))
    samples = [data[i] / 32768.0 for i in range(0, len(data), ch)]
    return samples, rate


def goertzel_power(x: list[float], rate: int, freq: float) -> float:
    w = 2 * math.pi * freq / rate
    coeff = 2 * math.cos(w)
    s1 = s2 = 0.0
    for v in x:
        s0 = v + coeff * s1 - s2
        s2, s1 = s1, s0
    return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (len(x) ** 2)


@dataclass
class ToneReport:
    freq: float          # strongest frequency, Hz
    rms_db: float        # level of the non-silent part, dBFS
    seconds: float       # length of the non-silent part
    total_seconds: float
    purity: float        # share of the window's power at the strongest frequency (0..1)

    def __str__(self) -> str:
        return (f"freq={self.freq:.0f} Hz rms={self.rms_db:.1f} dBFS sound={self.seconds:.2f}s "
                f"of {self.total_seconds:.2f}s purity={self.purity:.2f}")


def analyse(path: Path, threshold: float = 0.01) -> ToneReport:
    x, rate = read_mono(path)
    total = len(x) / rate if rate else 0.0
    loud = [i for i, v in enumerate(x) if abs(v) > threshold]
    if not loud:
        return ToneReport(0.0, -120.0, 0.0, total, 0.0)
    body = x[loud[0]:loud[-1] + 1]
    rms = math.sqrt(sum(v * v for v in body) / len(body))
    rms_db = 20 * math.log10(rms) if rms > 0 else -120.0
    mid = len(body) // 2
    win = body[max(0, mid - rate // 2): mid + rate // 2]
    # coarse: a 50 ms window (main lobe +-20 Hz) scanned in 10 Hz steps;
    # fine: the 1 s window (main lobe +-1 Hz) in 0.5 Hz steps around it
    short = win[len(win) // 2 - rate // 40: len(win) // 2 + rate // 40]
    coarse = max(range(100, 3801, 10), key=lambda f: goertzel_power(short, rate, f))
    fine = max((f / 2 for f in range(2 * (coarse - 15), 2 * (coarse + 15) + 1)),
               key=lambda f: goertzel_power(win, rate, f))
    # a pure sine of amplitude A has Goertzel power A^2/4 at its frequency; mean square is A^2/2
    ms = sum(v * v for v in win) / len(win)
    purity = min(1.0, 2 * goertzel_power(win, rate, fine) / ms) if ms > 0 else 0.0
    return ToneReport(fine, rms_db, len(body) / rate, total, purity)


def assert_tone(path: Path, want_hz: float, *, min_db: float = -30.0, min_seconds: float = 1.5,
                tol_pct: float = 3.0, min_purity: float = 0.5) -> ToneReport:
    r = analyse(path)
    ok = (abs(r.freq - want_hz) <= want_hz * tol_pct / 100 and r.rms_db >= min_db
          and r.seconds >= min_seconds and r.purity >= min_purity)
    assert ok, (f"{path}: want a {want_hz:.0f} Hz tone (±{tol_pct}%, >= {min_db} dBFS, >= {min_seconds}s, "
                f"purity >= {min_purity}); measured {r}")
    return r
