"""SIP over TCP at the byte level (RFC 3261 18.3 framing): a request split over
several segments, two requests in one segment, and CRLF keep-alives in between."""
from __future__ import annotations

import re
import socket
import time

import siplib


def _options(host: str, port: int, local_port: int, n: int) -> bytes:
    return (
        f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/TCP 127.0.0.1:{local_port};branch={siplib.new_branch()}\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:framing@127.0.0.1>;tag=fr{n}\r\n"
        f"To: <sip:{host}:{port}>\r\n"
        f"Call-ID: framing-{n}-{local_port}@127.0.0.1\r\n"
        f"CSeq: {n} OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n").encode()


def _read_responses(sock: socket.socket, want: int, timeout: float) -> list[siplib.SipResponse]:
    """Reads from the stream until `want` complete messages arrived (Content-Length framing)."""
    buf = b""
    out: list[siplib.SipResponse] = []
    deadline = time.monotonic() + timeout
    while len(out) < want and time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65535)
        except socket.timeout:
            break
        if not chunk:
            break
        buf += chunk
        while True:
            buf = buf.lstrip(b"\r\n")        # keep-alive CRLFs between messages
            head, sep, rest = buf.partition(b"\r\n\r\n")
            if not sep:
                break
            m = re.search(rb"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
            length = int(m.group(1)) if m else 0
            if len(rest) < length:
                break
            r = siplib.parse_response(head + sep + rest[:length])
            out.append(r or siplib.SipResponse(head, 0, "not a SIP response"))
            buf = rest[length:]
    return out


def test_tcp_split_and_pipelined_requests(pbxd):
    host, port = pbxd.addr
    with socket.create_connection(pbxd.addr, timeout=5) as s:
        lp = s.getsockname()[1]
        # one request in three segments
        msg = _options(host, port, lp, 1)
        for part in (msg[:17], msg[17:90], msg[90:]):
            s.sendall(part)
            time.sleep(0.1)
        rs = _read_responses(s, 1, 3)
        assert [r.header("CSeq") for r in rs] == ["1 OPTIONS"], \
            f"split request: responses {[(r.code, r.header('CSeq')) for r in rs]}"
        # two requests in one segment, with CRLF keep-alives around them
        s.sendall(b"\r\n\r\n" + _options(host, port, lp, 2) + _options(host, port, lp, 3))
        rs = _read_responses(s, 2, 3)
        assert sorted(r.header("CSeq") for r in rs) == ["2 OPTIONS", "3 OPTIONS"], \
            f"pipelined requests: responses {[(r.code, r.header('CSeq')) for r in rs]}"
        assert all(r.code >= 200 for r in rs)
    # and pbxd is still fine on UDP
    assert siplib.sip_ping(pbxd.addr, timeout=2) is not None
