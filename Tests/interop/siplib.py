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

    def collect(self, timeout: float, until_final: bool = True, max_count: int | None = None) -> list[SipResponse]:
        """Reads responses for up to `timeout` s; stops at the first final (>=200)
        response when `until_final`, or after `max_count` datagrams. Non-SIP
        datagrams are kept as code 0."""
        out: list[SipResponse] = []
        deadline = time.monotonic() + timeout
        while max_count is None or len(out) < max_count:
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


# -- digest auth (RFC 2617 / RFC 8760), for the raw test UAC -----------------------------

def parse_challenge(value: str) -> dict[str, str]:
    """'Digest realm="r", nonce="n", qop="auth"' -> {'scheme': 'Digest', 'realm': 'r', ...}"""
    scheme, _, rest = value.strip().partition(" ")
    out = {"scheme": scheme}
    for m in re.finditer(r'([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^,\s]+)', rest):
        out[m.group(1).lower()] = m.group(3) if m.group(3) is not None else m.group(2)
    return out


def digest_authorization(chal: dict[str, str], method: str, uri: str, user: str, password: str,
                         cnonce: str | None = None, nc: int = 1) -> str:
    """The credentials header value answering challenge `chal`."""
    import hashlib
    alg = chal.get("algorithm", "MD5")
    hname = {"MD5": "md5", "SHA-256": "sha256"}.get(alg.upper().replace("SHA256", "SHA-256"))
    if hname is None:
        raise ValueError(f"unsupported digest algorithm {alg}")
    h = lambda s: hashlib.new(hname, s.encode()).hexdigest()  # noqa: E731
    realm, nonce = chal["realm"], chal["nonce"]
    ha1 = h(f"{user}:{realm}:{password}")
    ha2 = h(f"{method}:{uri}")
    parts = [f'username="{user}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"']
    qops = [q.strip() for q in chal.get("qop", "").split(",") if q.strip()]
    if "auth" in qops:
        cnonce = cnonce or _token(12)
        ncs = f"{nc:08x}"
        resp = h(f"{ha1}:{nonce}:{ncs}:{cnonce}:auth:{ha2}")
        parts += [f'response="{resp}"', "qop=auth", f"nc={ncs}", f'cnonce="{cnonce}"']
    else:
        resp = h(f"{ha1}:{nonce}:{ha2}")
        parts.append(f'response="{resp}"')
    parts.append(f"algorithm={alg}")
    if "opaque" in chal:
        parts.append(f'opaque="{chal["opaque"]}"')
    return "Digest " + ", ".join(parts)


class RawUac:
    """A caller built from raw SIP over UdpSipClient, for the cases SIPp cannot
    express (a byte-identical INVITE retransmission). One call per instance."""

    def __init__(self, client: UdpSipClient, caller: str, target: str):
        self.c = client
        host, port = client.server
        self.caller = caller
        self.uri = f"sip:{target}@{host}:{port}"
        self.from_hdr = f"<sip:{caller}@{host}:{port}>;tag={_token(10)}"
        self.to_hdr = f"<{self.uri}>"
        self.call_id = f"{_token(20)}@127.0.0.1"
        self.contact = f"<sip:{caller}@127.0.0.1:{client.port}>"

    def _via(self, branch: str) -> str:
        return f"SIP/2.0/UDP 127.0.0.1:{self.c.port};branch={branch};rport"

    def invite(self, branch: str, cseq: int, auth: str | None = None) -> bytes:
        sdp = ("v=0\r\no=raw 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               f"m=audio {self.c.port + 2 if self.c.port < 65000 else 40000} RTP/AVP 0 101\r\n"
               "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n")
        lines = [f"INVITE {self.uri} SIP/2.0", f"Via: {self._via(branch)}", "Max-Forwards: 70",
                 f"From: {self.from_hdr}", f"To: {self.to_hdr}", f"Call-ID: {self.call_id}",
                 f"CSeq: {cseq} INVITE", f"Contact: {self.contact}"]
        if auth:
            lines.append(f"Proxy-Authorization: {auth}")
        lines += ["User-Agent: pbxd-interop-raw", "Content-Type: application/sdp",
                  f"Content-Length: {len(sdp)}", "", sdp]
        return "\r\n".join(lines).encode()

    def in_dialog(self, method: str, ruri: str, branch: str, cseq: int, to_hdr: str) -> bytes:
        return "\r\n".join([
            f"{method} {ruri} SIP/2.0", f"Via: {self._via(branch)}", "Max-Forwards: 70",
            f"From: {self.from_hdr}", f"To: {to_hdr}", f"Call-ID: {self.call_id}",
            f"CSeq: {cseq} {method}", "Content-Length: 0", "", ""]).encode()


def new_branch() -> str:
    return "z9hG4bK" + _token(14)


def raw_register(server: tuple[str, int], user: str, password: str, contact: str | None,
                 expires: int | None, timeout: float = 3.0) -> list[SipResponse]:
    """REGISTER for `user` from a fresh socket, answering one digest challenge.
    `contact` None queries the bindings (RFC 3261 10.2.3); '*' with expires 0 removes
    them all (10.2.2). Returns every response received."""
    host, port = server
    with UdpSipClient(server) as c:
        call_id, tag = f"{_token(16)}@127.0.0.1", _token(8)
        ruri = f"sip:{host}:{port}"

        def req(cseq: int, auth: str | None) -> bytes:
            lines = [f"REGISTER {ruri} SIP/2.0",
                     f"Via: SIP/2.0/UDP 127.0.0.1:{c.port};branch={new_branch()};rport",
                     "Max-Forwards: 70", f"From: <sip:{user}@{host}:{port}>;tag={tag}",
                     f"To: <sip:{user}@{host}:{port}>", f"Call-ID: {call_id}", f"CSeq: {cseq} REGISTER"]
            if contact is not None:
                lines.append(f"Contact: {contact}")
            if expires is not None:
                lines.append(f"Expires: {expires}")
            if auth:
                lines.append(f"Authorization: {auth}")
            lines += ["User-Agent: pbxd-interop-raw", "Content-Length: 0", "", ""]
            return "\r\n".join(lines).encode()

        c.send(req(1, None))
        out = c.collect(timeout)
        if out and out[-1].code == 401:
            chal = parse_challenge(out[-1].header("WWW-Authenticate") or "")
            c.send(req(2, digest_authorization(chal, "REGISTER", ruri, user, password)))
            out += c.collect(timeout)
        return out


def contacts_of(resp: SipResponse) -> list[str]:
    """The Contact header values of a response (comma-separated ones split)."""
    out = []
    for k, v in resp.headers:
        if k.lower() in ("contact", "m"):
            out += [x.strip() for x in re.split(r",(?=\s*<)", v) if x.strip()]
    return out
