"""Free-port picking for the interop suite (everything on 127.0.0.1).

Single ports come from the kernel (bind to port 0) and are checked free on both
UDP and TCP. Ranges (RTP) are taken above the kernel's ephemeral range
(32768-60999 here), so that ports the kernel hands out to other processes do not
land in them, and every port of the range is test-bound before it is handed out.
Ports handed out are remembered for the life of the test process."""
from __future__ import annotations

import random
import socket

_given: set[int] = set()


def _bindable(port: int, udp: bool = True, tcp: bool = True) -> bool:
    socks = []
    try:
        if udp:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            socks.append(s)
            s.bind(("127.0.0.1", port))
        if tcp:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


def free_port(span: int = 1, tcp: bool = True) -> int:
    """A port P such that P..P+span-1 are free on UDP (and TCP when `tcp`)."""
    for _ in range(500):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        p = s.getsockname()[1]
        s.close()
        ports = range(p, p + span)
        if p + span > 65535 or any(q in _given for q in ports):
            continue
        if all(_bindable(q, tcp=tcp) for q in ports):
            _given.update(ports)
            return p
    raise RuntimeError("no free port found")


def release(first: int, last: int) -> None:
    """Gives ports back (a stopped pbxd's RTP range, say)."""
    _given.difference_update(range(first, last + 1))


# where ranges are looked for when the asked-for region is full (other loads on the
# machine, e.g. RTP benchmarks, can hold thousands of ports for a while)
FALLBACK_REGIONS = [(61000, 65500), (30000, 32700), (10000, 19990)]


def free_range(size: int, low: int = 61000, high: int = 65500, tcp: bool = False) -> tuple[int, int]:
    """(first, last) of `size` consecutive free ports, first even: in [low, high) if
    possible, else in one of FALLBACK_REGIONS."""
    for lo, hi in [(low, high)] + [r for r in FALLBACK_REGIONS if r != (low, high)]:
        blocks = list(range(lo, hi - size, size + (size % 2)))
        random.shuffle(blocks)
        for b in blocks:
            ports = range(b, b + size)
            if any(q in _given for q in ports):
                continue
            if all(_bindable(q, tcp=tcp) for q in ports):
                _given.update(ports)
                return b, b + size - 1
    raise RuntimeError(f"no free range of {size} ports in {low}-{high} nor in {FALLBACK_REGIONS}")
