"""A FastAGI server for tests: accepts one connection from pbxd on 127.0.0.1 and runs the
test's `script(conn)` in a thread, keeping every byte pbxd sent and any assertion failure for
the test thread to re-raise (`check`)."""
from __future__ import annotations

import socket
import threading


class FastAGIServer:
    """One-connection-at-a-time FastAGI server running `script(conn)` in a thread; keeps every
    byte pbxd sent and any assertion failure for the test to re-raise."""

    def __init__(self, port: int, script):
        self.script = script
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(1)
        self.sock.settimeout(20)
        self.received = b""
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            conn, _ = self.sock.accept()
            conn.settimeout(15)
            with conn:
                self.script(AGIConn(conn, self))
        except BaseException as e:  # noqa: BLE001 - handed to the test thread
            self.error = e
        finally:
            self.done.set()

    def close(self):
        self.sock.close()

    def check(self, timeout: float = 30):
        assert self.done.wait(timeout), "the FastAGI session did not finish"
        if self.error:
            raise self.error


class AGIConn:
    def __init__(self, conn: socket.socket, server: FastAGIServer):
        self.conn = conn
        self.server = server
        self.buf = b""

    def line(self) -> str:
        while b"\n" not in self.buf:
            chunk = self.conn.recv(4096)
            if not chunk:
                raise AssertionError(f"pbxd closed the FastAGI socket; so far: {self.server.received!r}")
            self.buf += chunk
            self.server.received += chunk
        raw, self.buf = self.buf.split(b"\n", 1)
        assert not raw.endswith(b"\r"), f"AGI lines end in a bare LF, got {raw!r}"
        return raw.decode()

    def env(self) -> list[tuple[str, str]]:
        out = []
        while (line := self.line()) != "":
            key, sep, value = line.partition(": ")
            assert sep, f"environment line without ': ': {line!r}"
            out.append((key, value))
        return out

    def cmd(self, text: str) -> str:
        self.conn.sendall(text.encode() + b"\n")
        return self.line()

    def eof_within(self, seconds: float) -> bool:
        self.conn.settimeout(seconds)
        try:
            return self.conn.recv(1) == b""
        except socket.timeout:
            return False
