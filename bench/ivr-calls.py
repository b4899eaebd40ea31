#!/usr/bin/env python3
"""Callers for the IVR playback benchmark (bench/run-ivr-bench.sh): N calls into pbxd over raw
SIP/UDP from one socket (pbxd matches it by address: insecure=port,invite, so no digest), each
offering PCMU on its own RTP port (--rtp-base + 2*i, where ivr-sink listens). Sets the calls up
(at most --rate new calls per second), holds them for --hold seconds, hangs them up (BYE), and
prints how many were answered.

    ivr-calls.py --pbxd 127.0.0.1:5060 --calls 200 --rtp-base 40000 --hold 25
"""
from __future__ import annotations

import argparse
import random
import socket
import string
import time


def token(n: int = 12) -> str:
    return "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(n))


class Call:
    def __init__(self, index: int, local_port: int, host: str, port: int, rtp_port: int):
        self.call_id = f"{token(20)}@127.0.0.1"
        self.uri = f"sip:500@{host}:{port}"
        self.from_hdr = f"<sip:bench{index}@127.0.0.1:{local_port}>;tag={token(8)}"
        self.local_port = local_port
        self.rtp_port = rtp_port
        self.to_hdr: str | None = None
        self.answered = False
        self.ended = False

    def _request(self, method: str, cseq: int, to_hdr: str, body: str = "") -> bytes:
        lines = [f"{method} {self.uri} SIP/2.0",
                 f"Via: SIP/2.0/UDP 127.0.0.1:{self.local_port};branch=z9hG4bK{token(14)};rport",
                 "Max-Forwards: 70", f"From: {self.from_hdr}", f"To: {to_hdr}", f"Call-ID: {self.call_id}",
                 f"CSeq: {cseq} {method}", f"Contact: <sip:bench@127.0.0.1:{self.local_port}>"]
        if body:
            lines.append("Content-Type: application/sdp")
        lines += [f"Content-Length: {len(body)}", "", body]
        return "\r\n".join(lines).encode()

    def invite(self) -> bytes:
        sdp = ("v=0\r\no=bench 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               f"m=audio {self.rtp_port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n")
        return self._request("INVITE", 1, f"<{self.uri}>", sdp)

    def ack(self) -> bytes:
        return self._request("ACK", 1, self.to_hdr or "")

    def bye(self) -> bytes:
        return self._request("BYE", 2, self.to_hdr or "")


def header(text: str, name: str) -> str | None:
    for line in text.split("\r\n"):
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return None


def pump(sock: socket.socket, server, calls: dict[str, Call], until: float) -> None:
    """Reads responses until `until` (monotonic): ACKs 200s to INVITE, notes 200s to BYE."""
    while True:
        left = until - time.monotonic()
        if left <= 0:
            return
        sock.settimeout(left)
        try:
            data, _ = sock.recvfrom(65535)
        except socket.timeout:
            return
        text = data.decode("utf-8", "replace")
        call = calls.get(header(text, "Call-ID") or "")
        if not call or not text.startswith("SIP/2.0 "):
            continue
        code = int(text[8:11])
        cseq = header(text, "CSeq") or ""
        if cseq.endswith("INVITE") and code >= 200:
            call.to_hdr = header(text, "To")
            if code == 200:
                call.answered = True
                sock.sendto(call.ack(), server)
        elif cseq.endswith("BYE") and code >= 200:
            call.ended = True


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pbxd", required=True, help="host:port")
    ap.add_argument("--calls", type=int, required=True)
    ap.add_argument("--rtp-base", type=int, required=True)
    ap.add_argument("--hold", type=float, default=25)
    ap.add_argument("--rate", type=float, default=100, help="new calls per second")
    args = ap.parse_args()
    host, port = args.pbxd.rsplit(":", 1)
    server = (host, int(port))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    local_port = sock.getsockname()[1]
    calls: dict[str, Call] = {}
    for i in range(args.calls):
        call = Call(i, local_port, host, int(port), args.rtp_base + 2 * i)
        calls[call.call_id] = call
        sock.sendto(call.invite(), server)
        pump(sock, server, calls, time.monotonic() + 1 / args.rate)
    pump(sock, server, calls, time.monotonic() + 2)
    answered = [c for c in calls.values() if c.answered]
    print(f"calls={args.calls} answered={len(answered)}", flush=True)
    end = time.monotonic() + args.hold
    while time.monotonic() < end:
        pump(sock, server, calls, min(end, time.monotonic() + 1))
    for call in answered:
        sock.sendto(call.bye(), server)
    pump(sock, server, calls, time.monotonic() + 3)
    print(f"hung up={sum(c.ended for c in answered)}", flush=True)


if __name__ == "__main__":
    main()
