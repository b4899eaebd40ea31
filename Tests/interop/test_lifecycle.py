"""pbxd as a process: clean SIGTERM, state that survives a restart, bad config."""
from __future__ import annotations

import re
import subprocess

import netutil
from pbxdproc import Pbxd
from siplib import sip_ping
from sipphelpers import both, register, run_caller, start_callee


def test_sigterm_exits_cleanly(artifacts):
    p = Pbxd(artifacts / "pbxd")
    p.start()
    try:
        assert sip_ping(p.addr, timeout=2) is not None
    finally:
        rc, killed = p.stop(timeout=10)
        p.close()
    assert not killed, "pbxd did not exit within 10 s of SIGTERM\n" + p.log_tail()
    assert rc == 0, f"pbxd exited with {rc} after SIGTERM, want 0\n" + p.log_tail()
    assert sip_ping(p.addr, timeout=0.5) is None, "something still answers on pbxd's port after it exited"


def test_registration_survives_restart(pbxd, procs, artifacts):
    """REGISTER 1001, restart pbxd on the same data dir, call 1001: the INVITE
    must reach the contact registered before the restart."""
    port = netutil.free_port()
    reg = register(pbxd, procs, artifacts, "1001", port, expires=3600)
    assert reg.rc == 0, "registration before the restart failed\n" + reg.describe()
    rc, killed = pbxd.stop()
    assert not killed, "pbxd did not stop on SIGTERM"
    pbxd.start()
    callee = start_callee(pbxd, procs, artifacts, "1001", port, timeout=30)
    uac = run_caller(pbxd, procs, artifacts, "1002", "1001", timeout=25)
    uas = callee.wait(abandon=uac.rc != 0)
    assert uas.rc == 0 and uas.received("INVITE"), \
        "the call to 1001 did not reach the contact registered before the restart\n" + both(uas, uac)
    assert uac.rc == 0, "caller 1002 -> 1001 after the restart failed\n" + both(uac, uas)


def test_broken_config_is_refused_with_file_and_line(artifacts):
    p = Pbxd(artifacts / "pbxd")
    conf = p.config_dir / "sip.conf"
    lines = conf.read_text().splitlines()
    bad_line = len(lines) + 1
    conf.write_text("\n".join(lines) + "\n[1003(phone\nsecret=x\n")
    proc = subprocess.Popen([str(p.binary), "--config-dir", str(p.config_dir), "--data-dir", str(p.data_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    p.close()
    try:
        out, _ = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise AssertionError("pbxd kept running with a broken sip.conf:\n" + out.decode(errors="replace")[-2000:])
    text = out.decode(errors="replace")
    assert proc.returncode != 0, f"pbxd exited 0 with a broken sip.conf:\n{text[-2000:]}"
    assert re.search(rf"sip\.conf:{bad_line}\b", text), \
        f"the error does not name sip.conf:{bad_line}:\n{text[-2000:]}"
