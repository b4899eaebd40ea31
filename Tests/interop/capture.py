"""Packet capture for diagnosis: tcpdump on lo while a test runs, and a stdlib
pcap reader that counts UDP flows (to tell "no RTP relayed" from "bad audio")."""
from __future__ import annotations

import re
import struct
import subprocess
import time
from collections import Counter
from pathlib import Path


class Capture:
    def __init__(self, procs, path: Path, bpf: str, snaplen: int = 256):
        self.path = path
        self.err = path.with_suffix(".tcpdump.err")
        with open(self.err, "wb") as e:
            self.proc = procs.spawn(["tcpdump", "-i", "lo", "-n", "-U", "--immediate-mode", "-Z", "root", "-s", str(snaplen), "-w", str(path), bpf],
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


def packets(pcap: Path):
    """(time, proto, src port, dst port, payload) for each IPv4 UDP/TCP packet of a pcap file."""
    data = pcap.read_bytes() if pcap.exists() else b""
    if len(data) < 24:
        return
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        sec, usec, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        pkt = data[off + 16: off + 16 + incl]
        off += 16 + incl
        if linktype == 1:        # Ethernet (what Linux gives for lo)
            if len(pkt) < 14 or pkt[12:14] != b"\x08\x00":
                continue
            ip = pkt[14:]
        elif linktype == 113:    # Linux cooked
            ip = pkt[16:]
        elif linktype == 101:    # raw IP
            ip = pkt
        else:
            continue
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] not in (6, 17):
            continue
        ihl = (ip[0] & 0x0F) * 4
        l4 = ip[ihl:]
        if len(l4) < 8:
            continue
        sport, dport = struct.unpack("!HH", l4[:4])
        if ip[9] == 17:
            yield sec + usec / 1e6, "UDP", sport, dport, l4[8:]
        elif len(l4) >= 20:
            yield sec + usec / 1e6, "TCP", sport, dport, l4[(l4[12] >> 4) * 4:]


def udp_flows(pcap: Path) -> Counter:
    """Counter of (src_port, dst_port) -> packets for IPv4/UDP in a pcap file."""
    flows: Counter = Counter()
    for _, proto, sport, dport, _ in packets(pcap):
        if proto == "UDP":
            flows[(sport, dport)] += 1
    return flows


def sip_trace(pcap: Path, max_lines: int = 14, limit: int = 120) -> str:
    """The SIP messages in a capture, one block each: time, ports, the first lines."""
    out = []
    t0 = None
    pings: set[bytes] = set()   # the harness's own readiness/liveness OPTIONS: left out
    for ts, proto, sport, dport, payload in packets(pcap):
        if not re.match(rb"^(SIP/2\.0 \d{3}|[A-Z!%'`~*+._-]+ \S+ SIP/)", payload):
            continue
        cid = re.search(rb"(?im)^(?:call-id|i)\s*:\s*(\S+)", payload)
        if b"User-Agent: pbxd-interop-ping" in payload and cid:
            pings.add(cid.group(1))
        if cid and cid.group(1) in pings:
            continue
        t0 = ts if t0 is None else t0
        text = payload.decode("utf-8", "replace").replace("\r", "")
        lines = text.split("\n")
        head = "\n    ".join(lines[:max_lines]) + ("\n    ..." if len(lines) > max_lines else "")
        out.append(f"+{ts - t0:7.3f}s {proto} {sport} -> {dport}\n    {head}")
        if len(out) >= limit:
            out.append("... (more in the pcap)")
            break
    return "\n".join(out) or "(no SIP packets captured)"


def describe_flows(flows: Counter, limit: int = 20) -> str:
    return "\n".join(f"  udp {s} -> {d}: {n} packets" for (s, d), n in flows.most_common(limit)) or "  (none)"
