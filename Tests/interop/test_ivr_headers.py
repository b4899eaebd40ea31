"""SIP_HEADER() with a real peer: a SIPp caller's INVITE carries `X-Campaign: <value>`, and the
dialplan branches on it (`GotoIf($["${SIP_HEADER(X-Campaign)}" = "spring"]?spring)`). Where
the call went is read from pbxd's log (the branch's Verbose line, and Playback only on the
"spring" branch); either way pbxd hangs up and the caller answers the BYE."""
from __future__ import annotations

import re

import pytest

from callhelpers import answered_call, running_pbxd, wait_log

DIALPLAN = """\
exten => 520,1,Answer()
 same => n,GotoIf($["${SIP_HEADER(X-Campaign)}" = "spring"]?spring)
 same => n,Verbose(1,campaign other: '${SIP_HEADER(X-Campaign)}')
 same => n,Hangup()
 same => n(spring),Verbose(1,campaign spring from header ${SIP_HEADER(x-campaign)})
 same => n,Playback(beep)
 same => n,Hangup()
"""


@pytest.fixture
def pbxd(request, procs, artifacts):
    yield from running_pbxd(request, procs, artifacts, extensions=DIALPLAN, sounds=True)


@pytest.mark.parametrize("campaign,landed", [
    ("spring", r"\[Dialplan\] campaign spring from header spring$"),
    ("autumn", r"\[Dialplan\] campaign other: 'autumn'$"),
])
def test_dialplan_branches_on_a_custom_header(pbxd, procs, artifacts, campaign, landed):
    pbxd, cap = pbxd
    uac, rtp, _, _ = answered_call(pbxd, cap, procs, artifacts, "520", scenario="ivr_uac_header_wait_bye.xml",
                                   keys={"campaign": campaign})
    try:
        assert wait_log(pbxd, landed, 5), f"X-Campaign: {campaign} did not take its branch\n" + pbxd.log_tail(30)
        result = uac.wait()
    finally:
        rtp.close()
    assert result.rc == 0, "no BYE after the branch\n" + result.describe()
    played = re.search(r"Executing \[520@internal:6\] Playback", pbxd.log_text())
    assert bool(played) == (campaign == "spring"), pbxd.log_tail(30)
