"""DB()/DB_EXISTS()/DB_DELETE() over the astdb table of <datadir>/pbxd.sqlite.

test_astdb_imports_the_json_store_and_survives_kill_9:
1. the data directory holds an astdb.json of an older pbxd (cf/1002, night/mode): on start it
   is imported into pbxd.sqlite and renamed astdb.json.imported;
2. a call to 720 reads the imported keys, writes cf/1001 and deletes night/mode; the table
   (read with sqlite3) holds exactly that once the call has run;
3. pbxd is killed with SIGKILL (a put is durable when it returns, no shutdown needed) and
   started again: a call to 721 reads the values written before the kill, and the renamed
   file is not imported a second time;
4. AMI's DBGet reads the same table and DBPut writes a row into it."""
from __future__ import annotations

import json
import socket
import sqlite3
import time

import pytest

import netutil
from callhelpers import answered_call, running_pbxd, wait_log
from test_ami import Raw, write_manager_conf

EXTENSIONS = """\
exten => 720,1,Answer()
 same => n,Set(DB(cf/1001)=${DB(cf/1002)}-seen)
 same => n,Set(gone=${DB_DELETE(night/mode)})
 same => n,Verbose(1,astdb gone=${gone} night=${DB_EXISTS(night/mode)} cf=${DB(cf/1001)})
 same => n,Hangup()
exten => 721,1,Answer()
 same => n,Verbose(1,astdb restarted cf=${DB(cf/1001)} night=${DB_EXISTS(night/mode)} old=${DB(cf/1002)})
 same => n,Hangup()
"""

LEGACY = {"families": {"cf": {"1002": "5550000"}, "night": {"mode": "on"}}}


@pytest.fixture
def astdb_pbxd(request, procs, artifacts):
    prepared = []

    def prepare(inst):
        (inst.data_dir / "astdb.json").write_text(json.dumps(LEGACY))
        write_manager_conf(inst)
        prepared.append(inst)
    yield from running_pbxd(request, procs, artifacts, extensions=EXTENSIONS, prepare=prepare, stopped_by_test=True)
    for inst in prepared:
        netutil.release(inst.ami_port, inst.ami_port)


def astdb_rows(pbxd) -> list[tuple[str, str, str]]:
    db = sqlite3.connect(f"file:{pbxd.data_dir / 'pbxd.sqlite'}?mode=ro", uri=True, timeout=5)
    try:
        return db.execute("SELECT family, key, value FROM astdb ORDER BY family, key").fetchall()
    finally:
        db.close()


def run_call(pbxd, cap, procs, artifacts, exten: str) -> None:
    uac, rtp, _, _ = answered_call(pbxd, cap, procs, artifacts, exten, timeout=15)
    try:
        result = uac.wait()
    finally:
        rtp.close()
    assert result.rc == 0, result.describe()


def test_astdb_imports_the_json_store_and_survives_kill_9(astdb_pbxd, procs, artifacts):
    pbxd, cap = astdb_pbxd
    assert not (pbxd.data_dir / "astdb.json").exists(), pbxd.log_tail()
    assert json.loads((pbxd.data_dir / "astdb.json.imported").read_text()) == LEGACY
    assert astdb_rows(pbxd) == [("cf", "1002", "5550000"), ("night", "mode", "on")]
    assert wait_log(pbxd, r"keys=2 .*imported astdb.json into pbxd.sqlite", 1), pbxd.log_tail(30)

    run_call(pbxd, cap, procs, artifacts, "720")
    assert wait_log(pbxd, r"astdb gone=on night=0 cf=5550000-seen", 5), pbxd.log_tail(30)
    assert astdb_rows(pbxd) == [("cf", "1001", "5550000-seen"), ("cf", "1002", "5550000")]

    proc = pbxd.proc
    proc.kill()
    proc.wait(timeout=5)
    pbxd.start()
    run_call(pbxd, cap, procs, artifacts, "721")
    assert wait_log(pbxd, r"astdb restarted cf=5550000-seen night=0 old=5550000", 5), pbxd.log_tail(30)
    assert not (pbxd.data_dir / "astdb.json").exists()
    assert "imported astdb.json" not in pbxd.log_text()

    manager = manager_session(pbxd)
    manager.action("DBGet", Family="cf", Key="1001", ActionID="get")
    reply = manager.response()
    assert reply["Response"] == "Success", reply
    item = manager.message()
    assert (item.get("Event"), item.get("Val")) == ("DBGetResponse", "5550000-seen"), item
    manager.action("DBPut", Family="cf", Key="1003", Val="via-ami", ActionID="put")
    assert manager.response()["Response"] == "Success"
    manager.close()
    assert ("cf", "1003", "via-ami") in astdb_rows(pbxd)
    pbxd.stop()


def manager_session(pbxd) -> Raw:
    """An admin AMI session (events off) once the manager port is open."""
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", pbxd.ami_port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "manager port never opened\n" + pbxd.log_tail(30)
            time.sleep(0.1)
    manager = Raw(pbxd.ami_port)
    assert manager.login(events="off")["Response"] == "Success"
    return manager
