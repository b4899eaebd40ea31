"""RFC 4475 torture messages (Tests/fixtures/rfc4475/*.dat), made deliverable to a
server under test: the Request-URI host becomes the server's address and the top
Via's sent-by becomes the sender's own 127.0.0.1:port over UDP (so the response
comes back to the socket that sent the message). Only the start line and the top
Via change, so bodies and Content-Length values stay as the RFC wrote them."""
from __future__ import annotations

import re
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rfc4475"

# top Via: name (long/compact, any case, spaces before the colon), then
# SIP / version / transport with LWS (folding too) around the slashes, then sent-by
_VIA = re.compile(
    rb"(?im)^(?P<name>via|v)[ \t]*:(?P<pre>\s*SIP\s*/\s*\d+\.\d+\s*/\s*)(?P<transport>[A-Za-z0-9_-]+)"
    rb"(?P<sp>\s+)(?P<sentby>[^;,\s]+)")


def _rewrite_uri(uri: bytes, server: bytes) -> bytes:
    lt = uri.startswith(b"<")
    inner = uri[1:-1] if lt and uri.endswith(b">") else uri
    m = re.match(rb"(?i)(sips?:)(.*)$", inner, re.S)
    if not m:
        return uri  # another scheme (unkscm, novelsc): left as the RFC wrote it
    scheme, rest = m.groups()
    at = rest.rfind(b"@")
    user, hostpart = (rest[:at + 1], rest[at + 1:]) if at >= 0 else (b"", rest)
    end = re.search(rb"[;?>\s]", hostpart)
    tail = hostpart[end.start():] if end else b""
    new = scheme + user + server + tail
    return b"<" + new + b">" if lt and uri.endswith(b">") else new


def rewrite(raw: bytes, server: tuple[str, int], sender_port: int, transport: str = "UDP") -> bytes:
    """`raw` with its Request-URI aimed at `server` and its top Via at the sender."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    first, nl, rest = head.partition(b"\r\n")
    srv = f"{server[0]}:{server[1]}".encode()
    if not first.startswith(b"SIP/"):
        m = re.match(rb"^(\S+)(\s+)(.*?)(\s+SIP/\S+\s*)$", first, re.S)
        if m:
            first = m.group(1) + m.group(2) + _rewrite_uri(m.group(3), srv) + m.group(4)
        else:  # no SIP-Version (test.dat)
            m = re.match(rb"^(\S+)(\s+)(\S+)(.*)$", first, re.S)
            if m:
                first = m.group(1) + m.group(2) + _rewrite_uri(m.group(3), srv) + m.group(4)
        v = _VIA.search(rest)
        if v:
            rest = (rest[:v.start("transport")] + transport.encode() + v.group("sp")
                    + f"127.0.0.1:{sender_port}".encode() + rest[v.end("sentby"):])
    return first + nl + rest + sep + body


def load(name: str) -> bytes:
    return (FIXTURES / f"{name}.dat").read_bytes()
