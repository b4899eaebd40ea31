"""Packet capture for diagnosis: tcpdump on lo while a test runs, and a stdlib
pcap reader that counts UDP flows (to tell "no RTP relayed" from "bad audio")."""
from __future__ import annotations

import struct
import subprocess
import time
from collections import Counter
from pathlib import Path


class Capture:
    def __init__(self, procs, path: Path, bpf: str):
        self.path = path
        self.err = path.with_suffix(".tcpdump.err")
        with open(self.err, "wb") as e:
            self.proc = procs.spawn(["tcpdump", "-i", "lo", "-n", "-U", "--immediate-mode", "-Z", "root", "-s", "256", "-w", str(path), bpf],
                                    stdout=subprocess.DEVNULL, stderr=e)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if b"listening on" in self.err.read_bytes():
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"tcpdump failed: {self.err.read_text(errors='replace')}")
            time.sleep(0.05)
        raise RuntimeError("tcpdump did not start listening within 5 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def udp_flows(pcap: Path) -> Counter:
    """Counter of (src_port, dst_port) -> packets for IPv4/UDP in a pcap file."""
    flows: Counter = Counter()
    data = pcap.read_bytes() if pcap.exists() else b""
    if len(data) < 24:
        return flows
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        pkt = data[off + 16: off + 16 + incl]
        off += 16 + incl
        if linktype == 1:        # Ethernet (what Linux gives for lo)
            if len(pkt) < 14 or pkt[12:14] != b"\x08\x00":
                continue
            ip = pkt[14:]
        elif linktype == 113:    # Linux cooked
            ip = pkt[16:]
        elif linktype in (0, 101):
            ip = pkt[4:] if linktype == 0 else pkt
        else:
            continue
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 0x0F) * 4
        if len(ip) < ihl + 4:
            continue
        sport, dport = struct.unpack("!HH", ip[ihl:ihl + 4])
        flows[(sport, dport)] += 1
    return flows


def describe_flows(flows: Counter, limit: int = 20) -> str:
    return "\n".join(f"  udp {s} -> {d}: {n} packets" for (s, d), n in flows.most_common(limit)) or "  (none)"
