"""Tiny stdlib SIP helpers for the interop suite: build a request, send it over
UDP, collect the responses, parse a status line. Only what the tests need; this
is a test client, not a SIP stack."""
from __future__ import annotations

import random
import re
import socket
import string
import time
from dataclasses import dataclass, field


def _token(n: int = 10) -> str:
    return "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(n))


@dataclass
class SipResponse:
    raw: bytes
    code: int
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        compact = {"via": "v", "call-id": "i", "from": "f", "to": "t", "contact": "m",
                   "content-length": "l", "content-type": "c"}
        names = {name.lower(), compact.get(name.lower(), name.lower())}
        for k, v in self.headers:
            if k.lower() in names:
                return v
        return None


def parse_response(data: bytes) -> SipResponse | None:
    """Parses a SIP response's status line and headers; None if `data` is not a response."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    lines = head.split("\r\n")
    m = re.match(r"^SIP/2\.0 (\d{3}) ?(.*)$", lines[0])
    if not m:
        return None
    headers = []
    for line in lines[1:]:
        if ":" in line and not line[:1].isspace():
            k, v = line.split(":", 1)
            headers.append((k.strip(), v.strip()))
    return SipResponse(data, int(m.group(1)), m.group(2), headers)


class UdpSipClient:
    """A UDP socket on 127.0.0.1 that sends raw SIP and reads what comes back."""

    def __init__(self, server: tuple[str, int]):
        self.server = server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def close(self) -> None:
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data: bytes) -> None:
        self.sock.sendto(data, self.server)

    def drain(self) -> None:
        self.sock.setblocking(False)
        try:
            while True:
                self.sock.recvfrom(65535)
        except (BlockingIOError, OSError):
            pass
        finally:
            self.sock.setblocking(True)

    def collect(self, timeout: float, until_final: bool = True) -> list[SipResponse]:
        """Reads responses for up to `timeout` s; stops at the first final (>=200)
        response when `until_final`. Non-SIP datagrams are kept as code 0."""
        out: list[SipResponse] = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return out
            self.sock.settimeout(left)
            try:
                data, _ = self.sock.recvfrom(65535)
            except socket.timeout:
                return out
            except ConnectionRefusedError:  # ICMP port unreachable from an earlier send
                continue
            r = parse_response(data) or SipResponse(data, 0, "not a SIP response")
            out.append(r)
            if until_final and r.code >= 200:
                return out

    def options(self, timeout: float = 1.0, uri: str | None = None) -> SipResponse | None:
        """Sends one OPTIONS and returns its final response (None on timeout)."""
        host, port = self.server
        uri = uri or f"sip:{host}:{port}"
        call_id = f"{_token(16)}@127.0.0.1"
        branch = "z9hG4bK" + _token(16)
        msg = (
            f"OPTIONS {uri} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch={branch};rport\r\n"
            f"Max-Forwards: 70\r\n"
            f"From: <sip:ping@127.0.0.1:{self.port}>;tag={_token(8)}\r\n"
            f"To: <{uri}>\r\n"
            f"Call-ID: {call_id}\r\n"
            f"CSeq: 1 OPTIONS\r\n"
            f"Accept: application/sdp\r\n"
            f"User-Agent: pbxd-interop-ping\r\n"
            f"Content-Length: 0\r\n\r\n"
        ).encode()
        self.send(msg)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for r in self.collect(deadline - time.monotonic()):
                if r.code >= 200 and r.header("Call-ID") == call_id:
                    return r
        return None


def sip_ping(server: tuple[str, int], timeout: float = 1.0) -> SipResponse | None:
    """One OPTIONS over UDP from a fresh socket; the final response or None."""
    with UdpSipClient(server) as c:
        return c.options(timeout=timeout)
