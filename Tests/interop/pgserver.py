"""A throw-away PostgreSQL server for the CDR tests: initdb in a temp dir, listening on
127.0.0.1 at a free port, trust authentication, stopped (pg_ctl stop, by its data dir) at the
end. As root the server runs as the `postgres` system user (initdb refuses root).
`PgServer.start_or_skip()` skips the test with the reason when no server can be started."""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import netutil


def _bin_dir() -> Path | None:
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(d, "initdb").exists() and Path(d, "pg_ctl").exists():
            return Path(d)
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and shutil.which("initdb") else None


class PgServer:
    def __init__(self, root: Path):
        self.bin = _bin_dir()
        self.root = root
        self.data = root / "data"
        self.port = netutil.free_port()
        self.user_prefix: list[str] = []
        self.started = False

    # -- lifecycle ------------------------------------------------------------
    @classmethod
    def start_or_skip(cls, artifacts: Path) -> "PgServer":
        if shutil.which("psql") is None:
            pytest.skip("PostgreSQL tests skipped: psql not installed (scripts/install-deps.sh test installs it)")
        root = Path(tempfile.mkdtemp(prefix="pbxd-pg-"))
        server = cls(root)
        try:
            server._init()
            server.start()
        except Exception as e:  # report why, then skip: the rest of the CDR suite still runs
            server.stop()
            log = (root / "server.log").read_text(errors="replace")[-2000:] if (root / "server.log").exists() else ""
            shutil.rmtree(root, ignore_errors=True)
            pytest.skip(f"PostgreSQL tests skipped: cannot start a local server: {e}\n{log}")
        return server

    def _init(self) -> None:
        if self.bin is None:
            raise RuntimeError("initdb/pg_ctl not found (apt package postgresql)")
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root and there is no 'postgres' user to run the server as")
            self.user_prefix = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.root, "postgres")
        subprocess.run(self.user_prefix + [str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust",
                                           "-U", "postgres", "--no-sync"],
                       check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(self.user_prefix + [str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", opts,
                                           "-l", str(self.root / "server.log"), "-w", "-t", "30", "start"],
                       check=True, capture_output=True, timeout=60)
        self.started = True

    def stop(self) -> None:
        if self.bin is None or not self.data.exists() or not self.started:
            return
        subprocess.run(self.user_prefix + [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast",
                                           "-w", "-t", "30", "stop"], capture_output=True, timeout=60)
        self.started = False

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- queries --------------------------------------------------------------
    def psql(self, sql: str, db: str = "postgres") -> list[list[str]]:
        """Rows of `sql` (fields split on the unit separator), via the psql client."""
        out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", db,
                              "-X", "-A", "-t", "-F", "\x1f", "-v", "ON_ERROR_STOP=1", "-c", sql],
                             check=True, capture_output=True, text=True, timeout=30).stdout
        return [line.split("\x1f") for line in out.splitlines() if line]

    def wait_rows(self, sql: str, count: int, timeout: float, db: str = "postgres") -> list[list[str]]:
        deadline = time.monotonic() + timeout
        rows: list[list[str]] = []
        while time.monotonic() < deadline:
            try:
                rows = self.psql(sql, db)
            except subprocess.CalledProcessError:
                rows = []
            if len(rows) >= count:
                return rows
            time.sleep(0.2)
        return rows
