"""RFC 4475 torture messages against pbxd over UDP, one test per message.

Each message (Tests/fixtures/rfc4475, Request-URI and top Via rewritten, see
rfc4475.py) is sent from a fresh UDP socket; the responses are collected; the
verdict is checked against the table below (from the RFC's section for that
message); then pbxd must still answer OPTIONS and its process must be alive.
Every outcome is also written to <artifacts>/rfc4475/results.txt.

Kinds:
  valid    must be accepted: a final response that is not a parse rejection
           (not 400, 500, 505); `codes` narrows it where the RFC or our config
           (no unauthenticated REGISTER/INVITE may succeed) says more.
  reject   must be rejected with one of `codes` (400 with a reason phrase).
  liberal  the RFC allows rejecting (400) or processing it: any final response
           except 500 (within `codes` when given).
  response a response sent to pbxd, which must not answer it.
"""
from __future__ import annotations

import hashlib

import pytest

import rfc4475
import siplib
from conftest import ARTIFACTS
from pbxdproc import Pbxd

NO_AUTH_OK = {401, 403, 404}          # an unauthenticated REGISTER must not succeed
INVITE_UNAUTH = {401, 403, 404, 407, 480, 484}

# name: (RFC 4475 section, kind, allowed codes or None, what it tests)
TABLE: dict[str, tuple[str, str, set[int] | None, str]] = {
    # 3.1.1 valid messages: must be parsed and processed
    # its To has a tag: an in-dialog INVITE for a dialog pbxd never had, so 481 (RFC 3261 12.2.2)
    "wsinv":      ("3.1.1.1", "valid", INVITE_UNAUTH | {481}, "short tortuous INVITE (folding, odd LWS, compact forms)"),
    "intmeth":    ("3.1.1.2", "valid", {405, 501} | INVITE_UNAUTH, "unknown method made of every token char"),
    "esc01":      ("3.1.1.3", "valid", INVITE_UNAUTH, "valid % escaping in URIs"),
    "escnull":    ("3.1.1.4", "valid", NO_AUTH_OK, "escaped NULs in URIs (REGISTER)"),
    "esc02":      ("3.1.1.5", "valid", {405, 501} | NO_AUTH_OK, "% in a method name that is not an escape"),
    "lwsdisp":    ("3.1.1.6", "valid", None, "no LWS between display name and <"),
    "longreq":    ("3.1.1.7", "valid", INVITE_UNAUTH, "long header values, 34 Vias"),
    "dblreq":     ("3.1.1.8", "valid", NO_AUTH_OK, "REGISTER plus trailing octets (an INVITE) in one datagram"),
    "semiuri":    ("3.1.1.9", "valid", None, "semicolon-separated params in the URI user part"),
    "transports": ("3.1.1.10", "valid", None, "varied and unknown transports in lower Vias"),
    "mpart01":    ("3.1.1.11", "valid", None, "multipart MIME MESSAGE"),
    "unreason":   ("3.1.1.12", "response", None, "200 with an unusual (UTF-8) reason phrase"),
    "noreason":   ("3.1.1.13", "response", None, "100 with an empty reason phrase"),
    # 3.1.2 invalid messages
    "badinv01":   ("3.1.2.1", "reject", {400}, "extraneous header field separators"),
    "clerr":      ("3.1.2.2", "reject", {400}, "Content-Length larger than the datagram"),
    "ncl":        ("3.1.2.3", "reject", {400}, "negative Content-Length"),
    "scalar02":   ("3.1.2.4", "reject", {400}, "overlarge CSeq, Max-Forwards, Expires"),
    "scalarlg":   ("3.1.2.5", "response", None, "response with overlarge scalar fields"),
    "quotbal":    ("3.1.2.6", "reject", {400}, "unterminated quoted string in display name"),
    "ltgtruri":   ("3.1.2.7", "reject", {400}, "<> around the Request-URI"),
    "lwsruri":    ("3.1.2.8", "reject", {400}, "embedded LWS in the Request-URI"),
    "lwsstart":   ("3.1.2.9", "liberal", {400} | INVITE_UNAUTH, "multiple SP between Request-Line elements"),
    "trws":       ("3.1.2.10", "liberal", None, "SP at the end of the Request-Line"),
    "escruri":    ("3.1.2.11", "liberal", {400} | INVITE_UNAUTH, "escaped headers in the Request-URI"),
    "baddate":    ("3.1.2.12", "liberal", {400} | INVITE_UNAUTH, "invalid time zone in Date"),
    "regbadct":   ("3.1.2.13", "liberal", {400} | NO_AUTH_OK, "name-addr Contact URI not in <>"),
    "badaspec":   ("3.1.2.14", "liberal", None, "spaces within addr-spec"),
    "baddn":      ("3.1.2.15", "liberal", None, "non-token characters in an unquoted display name"),
    "badvers":    ("3.1.2.16", "reject", {505}, "unknown protocol version SIP/7.0"),
    "mismatch01": ("3.1.2.17", "reject", {400}, "start line and CSeq method mismatch"),
    "mismatch02": ("3.1.2.18", "reject", {400, 501}, "unknown method with CSeq method mismatch"),
    "bigcode":    ("3.1.2.19", "response", None, "response code 4294967301"),
    # 3.2 transaction layer
    "badbranch":  ("3.2.1", "liberal", None, "branch is the bare magic cookie z9hG4bK"),
    # 3.3 application layer
    "insuf":      ("3.3.1", "reject", {400}, "missing To, From, Call-ID, Max-Forwards"),
    "unkscm":     ("3.3.2", "reject", {416}, "Request-URI with an unknown scheme"),
    "novelsc":    ("3.3.3", "liberal", {416, 404, 200}, "Request-URI with a known but atypical scheme (soap.beep)"),
    "unksm2":     ("3.3.4", "reject", {400} | NO_AUTH_OK, "non-SIP URIs in To/From/Contact of a REGISTER"),
    "bext01":     ("3.3.5", "reject", {420}, "Require/Proxy-Require with unknown extensions"),
    "invut":      ("3.3.6", "reject", {415} | INVITE_UNAUTH, "unknown Content-Type"),
    "regaut01":   ("3.3.7", "reject", NO_AUTH_OK, "Authorization with an unknown scheme"),
    "multi01":    ("3.3.8", "reject", {400}, "several values in single-value headers"),
    "mcl01":      ("3.3.9", "reject", {400}, "several Content-Length values"),
    "bcast":      ("3.3.10", "response", None, "200 OK with a broadcast Via"),
    "zeromf":     ("3.3.11", "valid", {200, 483, 401, 403, 404, 407}, "OPTIONS with Max-Forwards: 0"),
    "cparam01":   ("3.3.12", "valid", NO_AUTH_OK, "REGISTER with a Contact header parameter"),
    "cparam02":   ("3.3.13", "valid", NO_AUTH_OK, "REGISTER with a url-parameter"),
    "regescrt":   ("3.3.14", "valid", NO_AUTH_OK, "REGISTER with an escaped header in Contact"),
    "sdp01":      ("3.3.15", "reject", {406} | INVITE_UNAUTH, "Accept that no answer can satisfy"),
    "inv2543":    ("3.4.1", "valid", INVITE_UNAUTH, "INVITE in RFC 2543 syntax (no branch)"),
    "test":       ("archive", "optional400", None, "extra archive file: no SIP-Version, no Via"),
}

RESULTS = ARTIFACTS / "rfc4475" / "results.txt"


def test_corpus_complete_and_pinned():
    """Every message of the corpus has a verdict, and the files are the pinned ones."""
    names = {p.stem for p in rfc4475.FIXTURES.glob("*.dat")}
    assert names == set(TABLE), f"no verdict for {names - set(TABLE)}; no file for {set(TABLE) - names}"
    for line in (rfc4475.FIXTURES / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        got = hashlib.sha256((rfc4475.FIXTURES / name.lstrip("*")).read_bytes()).hexdigest()
        assert got == digest, f"{name} differs from SHA256SUMS"


@pytest.fixture(scope="module")
def corpus_pbxd():
    """One pbxd for the whole corpus (restarted if a message killed it)."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(f"{'message':11s} {'section':9s} {'kind':9s} responses -> verdict\n")
    p = Pbxd(RESULTS.parent / "pbxd")

    def get() -> Pbxd:
        if not p.alive():
            p.stop()
            p.start()   # same config, ports and data dir; a new log file per run
        return p

    yield get
    p.close()


def _send(pbxd: Pbxd, name: str, wait: float) -> list[siplib.SipResponse]:
    with siplib.UdpSipClient(pbxd.addr) as c:
        c.send(rfc4475.rewrite(rfc4475.load(name), pbxd.addr, c.port))
        out = c.collect(wait)
        if out and out[-1].code >= 200:
            out += c.collect(0.3, until_final=False)   # anything else (e.g. for dblreq's INVITE)
        return out


@pytest.mark.parametrize("name", sorted(TABLE))
def test_rfc4475_message(corpus_pbxd, name):
    section, kind, codes, what = TABLE[name]
    pbxd = corpus_pbxd()
    rs = _send(pbxd, name, wait=1.0 if kind == "response" else 2.5)
    finals = [r for r in rs if r.code >= 200]
    seen = ", ".join(f"{r.code} {r.reason}".strip() for r in rs) or "no response"
    alive_after = pbxd.alive()
    ping = siplib.sip_ping(pbxd.addr, timeout=2.0) if alive_after else None
    verdict = []

    if kind == "response":
        if rs:
            verdict.append(f"pbxd answered a response: {seen}")
    elif kind == "optional400":
        if rs and not (len(finals) == 1 and finals[0].code == 400):
            verdict.append(f"want 400 or nothing, got {seen}")
    else:
        if not finals:
            verdict.append(f"no final response ({seen})")
        else:
            code = finals[0].code
            if name == "dblreq":
                regs = [r for r in finals if "REGISTER" in (r.header("CSeq") or "")]
                invs = [r for r in finals if "INVITE" in (r.header("CSeq") or "")]
                if len(regs) != 1 or invs:
                    verdict.append(f"want one response to the REGISTER and none to the trailing "
                                   f"INVITE octets, got {seen}")
            if kind == "valid" and code in (400, 500, 505):
                verdict.append(f"a valid message was rejected: {seen}")
            elif kind == "liberal" and code == 500:
                verdict.append(f"internal error: {seen}")
            if codes is not None and code not in codes:
                verdict.append(f"want one of {sorted(codes)}, got {seen}")
            if kind == "reject" and code == 400 and not finals[0].reason.strip():
                verdict.append("400 without a reason phrase")
            if name == "bext01" and code == 420:
                uns = finals[0].header("Unsupported") or ""
                if "nothingSupportsThis" not in uns:
                    verdict.append(f"420 must list the unsupported options, Unsupported: {uns!r}")
    if not alive_after:
        verdict.append(f"pbxd died (exit {pbxd.proc.poll() if pbxd.proc else '?'}):\n{pbxd.log_tail(30)}")
    elif ping is None:
        verdict.append("pbxd stopped answering OPTIONS afterwards")

    with open(RESULTS, "a") as f:
        f.write(f"{name:11s} {section:9s} {kind:9s} {seen} -> {'ok' if not verdict else 'FAIL: ' + verdict[0]}\n")
    assert not verdict, f"{name} (RFC 4475 {section}, {what}): " + "; ".join(verdict)


def test_rfc4475_corpus_over_tcp(corpus_pbxd):
    """Every request of the corpus over its own TCP connection (Via rewritten to TCP):
    pbxd's stream framing must survive them all (clerr's Content-Length beyond the data,
    ncl's negative one, dblreq's trailing octets...). Verdicts are the UDP test's business;
    here pbxd must stay up and keep answering OPTIONS over TCP and UDP."""
    import socket
    import time

    pbxd = corpus_pbxd()
    seen = []
    for name in sorted(TABLE):
        raw = rfc4475.load(name)
        if raw.startswith(b"SIP/"):
            continue
        with socket.create_connection(pbxd.addr, timeout=3) as s:
            s.sendall(rfc4475.rewrite(raw, pbxd.addr, s.getsockname()[1], transport="TCP"))
            s.settimeout(0.4)
            data = b""
            try:
                deadline = time.monotonic() + 0.4
                while time.monotonic() < deadline:
                    chunk = s.recv(65535)
                    if not chunk:
                        break
                    data += chunk
            except (socket.timeout, ConnectionResetError):
                pass
        first = data.split(b"\r\n", 1)[0].decode("utf-8", "replace") if data else "no response"
        seen.append(f"{name}: {first}")
        assert pbxd.alive(), f"pbxd died after {name} over TCP:\n" + "\n".join(seen) + "\n" + pbxd.log_tail(30)
    with open(RESULTS, "a") as f:
        f.write("over TCP (first response line):\n" + "".join(f"  {line}\n" for line in seen))
    assert siplib.sip_ping(pbxd.addr, timeout=2) is not None, "pbxd stopped answering OPTIONS over UDP"
    with socket.create_connection(pbxd.addr, timeout=3) as s:
        host, port = pbxd.addr
        s.sendall((f"OPTIONS sip:{host}:{port} SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:{s.getsockname()[1]};"
                   f"branch={siplib.new_branch()}\r\nMax-Forwards: 70\r\nFrom: <sip:t@127.0.0.1>;tag=1\r\n"
                   f"To: <sip:{host}>\r\nCall-ID: tcp-after-corpus@127.0.0.1\r\nCSeq: 1 OPTIONS\r\n"
                   "Content-Length: 0\r\n\r\n").encode())
        s.settimeout(3)
        reply = s.recv(65535)
    assert reply.startswith(b"SIP/2.0 "), f"no answer to OPTIONS over TCP after the corpus: {reply[:80]!r}"
