"""Writes Tests/interop/sipp/call_*.xml (the scenarios of test_calls.py) from shared pieces.
The XML files are committed; edit here and rerun `python3 Tests/interop/gen_call_scenarios.py`."""
from pathlib import Path
OUT = Path(__file__).resolve().parent / "sipp"

HEAD = '''<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- {doc} -->
<scenario name="{name}">
'''
TAIL = '''</scenario>
'''

def sdp(who, port="[media_port]", direction="sendrecv", version="1", codecs="0 8 101"):
    rtpmap = {"0": "a=rtpmap:0 PCMU/8000", "8": "a=rtpmap:8 PCMA/8000", "101": "a=rtpmap:101 telephone-event/8000"}
    lines = [f"      {rtpmap[c]}" for c in codecs.split()]
    return f'''      v=0
      o=sipp-{who} [pid] {version} IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio {port} RTP/AVP {codecs}
{chr(10).join(lines)}
      a={direction}
'''

def uac_invite(port="[media_port]"):
    """INVITE without credentials -> 407 -> ACK -> INVITE with credentials (CSeq 2)."""
    body = sdp("[caller]", port)
    return f'''  <send>
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-i1;rport
      Max-Forwards: 70
      From: "Caller [caller]" <sip:[caller]@[remote_ip]:[remote_port]>;tag=[pid]c[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:[caller]@[local_ip]:[local_port];transport=[transport]>
      User-Agent: pbxd-interop-sipp
      Content-Type: application/sdp
      Content-Length: [len]

{body}
    ]]>
  </send>

  <recv response="100" optional="true"/>

  <recv response="407" auth="true"/>

  <send>
    <![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-i1;rport
      Max-Forwards: 70
      From: "Caller [caller]" <sip:[caller]@[remote_ip]:[remote_port]>;tag=[pid]c[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Content-Length: 0

    ]]>
  </send>

  <send retrans="500">
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-i2;rport
      Max-Forwards: 70
      From: "Caller [caller]" <sip:[caller]@[remote_ip]:[remote_port]>;tag=[pid]c[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 2 INVITE
      Contact: <sip:[caller]@[local_ip]:[local_port];transport=[transport]>
      [authentication]
      User-Agent: pbxd-interop-sipp
      Content-Type: application/sdp
      Content-Length: [len]

{body}
    ]]>
  </send>

  <recv response="100" optional="true"/>
'''

UAC_FROM = 'From: "Caller [caller]" <sip:[caller]@[remote_ip]:[remote_port]>;tag=[pid]c[call_number]'

def uac_answered():
    return '''  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true">
    <action>
      <ereg regexp="[^ ].*" search_in="hdr" header="To:" check_it="true" assign_to="dlg_to"/>
    </action>
  </recv>

''' + uac_ack(2)

def uac_ack(cseq):
    return f'''  <send>
    <![CDATA[

      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      [routes]
      Max-Forwards: 70
      {UAC_FROM}
      To: [$dlg_to]
      Call-ID: [call_id]
      CSeq: {cseq} ACK
      Content-Length: 0

    ]]>
  </send>

'''

def uac_bye(cseq):
    return f'''  <send retrans="500">
    <![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      [routes]
      Max-Forwards: 70
      {UAC_FROM}
      To: [$dlg_to]
      Call-ID: [call_id]
      CSeq: {cseq} BYE
      Content-Length: 0

    ]]>
  </send>

  <recv response="200" crlf="true"/>
'''

def uac_reinvite(cseq, direction, version):
    return f'''  <send retrans="500">
    <![CDATA[

      INVITE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      [routes]
      Max-Forwards: 70
      {UAC_FROM}
      To: [$dlg_to]
      Call-ID: [call_id]
      CSeq: {cseq} INVITE
      Contact: <sip:[caller]@[local_ip]:[local_port];transport=[transport]>
      User-Agent: pbxd-interop-sipp
      Content-Type: application/sdp
      Content-Length: [len]

{sdp("[caller]", direction=direction, version=version)}
    ]]>
  </send>

  <recv response="100" optional="true"/>
'''

def respond(code, reason, *, tag=False, contact=True, body=None, who="[service]", retrans=False):
    to = "[last_To:];tag=[pid]u[call_number]" if tag else "[last_To:]"
    c = "\n      Contact: <sip:" + who + "@[local_ip]:[local_port];transport=[transport]>" if contact else ""
    if body:
        b = f'''
      Content-Type: application/sdp
      Content-Length: [len]

{body}'''
    else:
        b = '''
      Content-Length: 0
'''
    r = ' retrans="500"' if retrans else ""
    return f'''  <send{r}>
    <![CDATA[

      SIP/2.0 {code} {reason}
      [last_Via:]
      [last_From:]
      {to}
      [last_Call-ID:]
      [last_CSeq:]{c}
      User-Agent: pbxd-interop-sipp-peer{b}
    ]]>
  </send>

'''

def uas_invite(extra_actions=""):
    return f'''  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp="m=audio [0-9]+ RTP/AVP" search_in="body" check_it="true" assign_to="offer"/>
      <ereg regexp="[^ ].*" search_in="hdr" header="From:" check_it="true" assign_to="pbx_from"/>
      <ereg regexp="sip:[^>]*" search_in="hdr" header="Contact:" check_it="true" assign_to="pbx_contact"/>{extra_actions}
    </action>
  </recv>

'''

UAS_FROM = "From: <sip:[service]@[local_ip]:[local_port]>;tag=[pid]u[call_number]"

def uas_request(method, cseq, body=None):
    if body:
        b = f'''      Contact: <sip:[service]@[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

{body}'''
    else:
        b = '''      Content-Length: 0
'''
    r = "" if method == "ACK" else ' retrans="500"'
    return f'''  <send{r}>
    <![CDATA[

      {method} [$pbx_contact] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      Max-Forwards: 70
      {UAS_FROM}
      To: [$pbx_from]
      Call-ID: [call_id]
      CSeq: {cseq} {method}
      User-Agent: pbxd-interop-sipp-peer
{b}
    ]]>
  </send>

'''

def uas_answer(body=None):
    return (respond(180, "Ringing", tag=True) + '  <pause milliseconds="200"/>\n\n'
            + respond(200, "OK", tag=True, body=body or sdp("[service]", codecs="0 101"), retrans=True)
            + '  <recv request="ACK" crlf="true"/>\n\n')

def uas_wait_bye():
    return ('  <recv request="BYE"/>\n\n' + respond(200, "OK", contact=False)
            + '  <!-- absorb a retransmitted BYE -->\n  <pause milliseconds="500"/>\n')

def check(regexp, var):
    return f'\n      <ereg regexp="{regexp}" search_in="body" check_it="true" assign_to="{var}"/>'

def write(name, doc, body, refs=()):
    text = HEAD.format(doc=doc, name=name) + body
    if refs:
        text += f'\n  <Reference variables="{",".join(refs)}"/>\n'
    text += TAIL
    (OUT / f"{name}.xml").write_text(text)

UACDOC = " -s CALLEE, -key caller USER, -au/-ap credentials, -auth_uri CALLEE@HOST:PORT."

# 1. early media
write("call_uac_early_media",
      "Caller that must get 183 with SDP (early media) before the 200." + UACDOC + " -d MS in the call.",
      uac_invite()
      + '''  <recv response="180" optional="true"/>
  <recv response="183">
    <action>''' + check("m=audio [0-9]+ RTP/AVP", "early") + '''
    </action>
  </recv>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true">
    <action>
      <ereg regexp="[^ ].*" search_in="hdr" header="To:" check_it="true" assign_to="dlg_to"/>
    </action>
  </recv>

''' + uac_ack(2) + "  <pause/>\n\n" + uac_bye(3), ["early"])

write("call_uas_early_media",
      "Callee with early media: INVITE, 183 with SDP, 200 with SDP, ACK, BYE from the other side.",
      uas_invite()
      + respond(183, "Session Progress", tag=True, body=sdp("[service]", codecs="0 101"))
      + '  <pause milliseconds="800"/>\n\n'
      + respond(200, "OK", tag=True, body=sdp("[service]", codecs="0 101"), retrans=True)
      + '  <recv request="ACK" crlf="true"/>\n\n' + uas_wait_bye(), ["offer", "pbx_from", "pbx_contact"])

# 2. hold from the caller
write("call_uac_hold",
      "Caller that holds (re-INVITE a=sendonly, wants a=recvonly back) and resumes (sendrecv), then BYE." + UACDOC,
      uac_invite() + uac_answered() + '  <pause milliseconds="500"/>\n\n'
      + uac_reinvite(3, "sendonly", "2")
      + '  <recv response="200">\n    <action>' + check("a=recvonly", "held") + "\n    </action>\n  </recv>\n\n"
      + uac_ack(3) + '  <pause milliseconds="500"/>\n\n'
      + uac_reinvite(4, "sendrecv", "3")
      + '  <recv response="200">\n    <action>' + check("a=sendrecv", "resumed") + "\n    </action>\n  </recv>\n\n"
      + uac_ack(4) + '  <pause milliseconds="300"/>\n\n' + uac_bye(5), ["held", "resumed"])

write("call_uas_held",
      "Callee that is put on hold through pbxd: re-INVITE with a=sendonly answered a=recvonly, then one with sendrecv answered sendrecv; BYE.",
      uas_invite() + uas_answer()
      + '  <recv request="INVITE">\n    <action>' + check("a=sendonly", "hold") + "\n    </action>\n  </recv>\n\n"
      + respond(200, "OK", body=sdp("[service]", direction="recvonly", version="2", codecs="0 101"), retrans=True)
      + '  <recv request="ACK"/>\n\n'
      + '  <recv request="INVITE">\n    <action>' + check("a=sendrecv", "resume") + "\n    </action>\n  </recv>\n\n"
      + respond(200, "OK", body=sdp("[service]", direction="sendrecv", version="3", codecs="0 101"), retrans=True)
      + '  <recv request="ACK"/>\n\n' + uas_wait_bye(), ["offer", "hold", "resume", "pbx_from", "pbx_contact"])

# 2b. hold from the callee
write("call_uas_hold",
      "Callee that holds the caller: after the call is up it sends re-INVITE a=sendonly (wants recvonly), then sendrecv; then waits for the BYE.",
      uas_invite() + uas_answer() + '  <pause milliseconds="500"/>\n\n'
      + uas_request("INVITE", 1, sdp("[service]", direction="sendonly", version="2", codecs="0 101"))
      + '  <recv response="100" optional="true"/>\n'
      + '  <recv response="200">\n    <action>' + check("a=recvonly", "held") + "\n    </action>\n  </recv>\n\n"
      + uas_request("ACK", 1) + '  <pause milliseconds="500"/>\n\n'
      + uas_request("INVITE", 2, sdp("[service]", direction="sendrecv", version="3", codecs="0 101"))
      + '  <recv response="100" optional="true"/>\n'
      + '  <recv response="200">\n    <action>' + check("a=sendrecv", "resumed") + "\n    </action>\n  </recv>\n\n"
      + uas_request("ACK", 2) + uas_wait_bye(), ["offer", "held", "resumed"])

write("call_uac_held",
      "Caller put on hold by the callee: answers pbxd's re-INVITE a=sendonly with a=recvonly, then sendrecv with sendrecv; then BYE." + UACDOC,
      uac_invite() + uac_answered()
      + '  <recv request="INVITE">\n    <action>' + check("a=sendonly", "hold") + "\n    </action>\n  </recv>\n\n"
      + respond(200, "OK", body=sdp("[caller]", direction="recvonly", version="2"), who="[caller]", retrans=True)
      + '  <recv request="ACK"/>\n\n'
      + '  <recv request="INVITE">\n    <action>' + check("a=sendrecv", "resume") + "\n    </action>\n  </recv>\n\n"
      + respond(200, "OK", body=sdp("[caller]", direction="sendrecv", version="3"), who="[caller]", retrans=True)
      + '  <recv request="ACK"/>\n\n  <pause milliseconds="300"/>\n\n' + uac_bye(3), ["hold", "resume"])

# 3. BYE from the callee
write("call_uas_hangs_up",
      "Callee that answers and hangs up first: BYE to pbxd after -d MS (default 1000), 200 back.",
      uas_invite() + uas_answer() + '  <pause/>\n\n' + uas_request("BYE", 1)
      + '  <recv response="200" crlf="true"/>\n', ["offer"])

write("call_uac_wait_bye",
      "Caller that answers nothing but waits for pbxd's BYE and answers it 200." + UACDOC,
      uac_invite() + uac_answered()
      + '  <recv request="BYE"/>\n\n' + respond(200, "OK", contact=False)
      + '  <pause milliseconds="500"/>\n')

# 5. no answer -> 480
write("call_uac_expect_480",
      "Caller whose call rings out: 180, then 480 Temporarily Unavailable (Dial timeout, NOANSWER)." + UACDOC,
      uac_invite() + '''  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="480"/>

  <send>
    <![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-i2;rport
      Max-Forwards: 70
      ''' + UAC_FROM + '''
      [last_To:]
      Call-ID: [call_id]
      CSeq: 2 ACK
      Content-Length: 0

    ]]>
  </send>

  <pause milliseconds="300"/>
''')

# 8b. any final failure
finals = [("480", ""), ("486", ""), ("487", ""), ("500", ""), ("502", ""), ("503", ""), ("504", ""), ("408", ""), ("603", "")]
recvs = "".join(f'  <recv response="{c}" optional="true" next="ack"/>\n' for c, _ in finals[:-1])
recvs += f'  <recv response="{finals[-1][0]}" next="ack"/>\n'
write("call_uac_expect_failure",
      "Caller whose ringing call must end with a final error response (480/486/487/5xx/408/603), ACKed." + UACDOC,
      uac_invite() + '  <recv response="180" optional="true"/>\n  <recv response="183" optional="true"/>\n'
      + recvs + '''
  <label id="ack"/>
  <send>
    <![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-i2;rport
      Max-Forwards: 70
      ''' + UAC_FROM + '''
      [last_To:]
      Call-ID: [call_id]
      CSeq: 2 ACK
      Content-Length: 0

    ]]>
  </send>

  <pause milliseconds="200"/>
''')

write("call_uas_ring_until_cancel",
      "Callee that rings until pbxd CANCELs: 200 for the CANCEL, 487, and the ACK if it comes within 3 s.",
      uas_invite() + respond(180, "Ringing", tag=True)
      + '  <recv request="CANCEL"/>\n\n' + respond(200, "OK", tag=True, contact=False)
      + '''  <send>
    <![CDATA[

      SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]u[call_number]
      [last_Call-ID:]
      CSeq: [last_cseq_number] INVITE
      User-Agent: pbxd-interop-sipp-peer
      Content-Length: 0

    ]]>
  </send>

  <recv request="ACK" timeout="3000" ontimeout="done"/>

  <label id="done"/>
  <pause milliseconds="100"/>
''', ["offer", "pbx_from", "pbx_contact"])

# 9. qualify
write("call_uas_options",
      "Answers each OPTIONS (qualify ping) with 200; one SIPp call per ping (-m N).",
      '  <recv request="OPTIONS"/>\n\n' + respond(200, "OK", tag=True))

# 10. RTP: SDP names a port the test's own socket owns
write("call_uac_rtp",
      "Caller like uac_call but its SDP names -key rtp_port (a socket of the test)." + UACDOC + " -d MS in the call.",
      uac_invite("[rtp_port]") + uac_answered() + "  <pause/>\n\n" + uac_bye(3))

write("call_uas_rtp",
      "Callee like uas_answer but its SDP names -key rtp_port (a socket of the test).",
      uas_invite() + uas_answer(sdp("[service]", port="[rtp_port]", codecs="0 101")) + uas_wait_bye(),
      ["offer", "pbx_from", "pbx_contact"])

# 7. NAT registration
reg = (OUT / "register.xml").read_text()
reg = reg.replace("Contact: <sip:[service]@[local_ip]:[local_port];transport=[transport]>",
                  "Contact: <sip:[service]@[local_ip]:[contact_port];transport=[transport]>")
reg = reg.replace('<scenario name="register">', '<scenario name="register behind NAT">')
reg = reg.replace("-key expires SECONDS. -->",
                  "-key expires SECONDS.\n     Behind NAT: the Contact names -key contact_port (a port nobody listens on), not the\n     port we send from. -->")
(OUT / "call_register_nat.xml").write_text(reg)
