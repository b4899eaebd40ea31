#!/usr/bin/env python3
"""N AMI clients subscribed to every event, counting what reaches them, while one more client
publishes UserEvents at a fixed rate (each carrying its send time). Prints events delivered per
second (all clients together), per-event delivery delay (UserEvent action sent → event read by
a subscriber; same host, CLOCK_MONOTONIC) and the call events seen (Newchannel, Hangup), which
come from whatever drives calls through pbxd meanwhile. With `--sip host:port`, twice a second
it also places a probe call itself (raw INVITE from caller `probeN`, then ACK and BYE) and
measures the SIP-to-event delay: INVITE sent → its Newchannel (CallerIDNum probeN) read by a
subscriber.

    bench/ami_fanout.py --port 5038 --user admin --secret amipass --clients 50 --rate 200 --duration 10
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Tests" / "interop"))


async def login(port: int, user: str, secret: str, events: str):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.readline()   # banner
    writer.write(f"Action: Login\r\nUsername: {user}\r\nSecret: {secret}\r\nEvents: {events}\r\n\r\n".encode())
    await writer.drain()
    return reader, writer


async def subscriber(port, user, secret, stop: asyncio.Event, counts: collections.Counter, delays: list,
                     probes: dict, sip_delays: list):
    reader, writer = await login(port, user, secret, "on")
    while not stop.is_set():
        try:
            block = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 0.5)
        except asyncio.TimeoutError:
            continue
        except (asyncio.IncompleteReadError, ConnectionError):
            counts["disconnected"] += 1
            return
        if not block.startswith(b"Event: "):
            continue
        name = block[7:block.index(b"\r\n")].decode()
        counts[name] += 1
        if name == "Newchannel" and probes:
            at = block.find(b"CallerIDNum: probe")
            if at >= 0:
                number = block[at + 13:block.index(b"\r\n", at)].decode()
                if number in probes:
                    sip_delays.append((time.monotonic_ns() - probes[number]) / 1e6)
        if name == "UserEvent":
            at = block.find(b"SentAt: ")
            if at >= 0:
                sent = int(block[at + 8:block.index(b"\r\n", at)])
                delays.append((time.monotonic_ns() - sent) / 1e6)
    writer.close()


async def publisher(port, user, secret, rate: float, stop: asyncio.Event, sent: list):
    reader, writer = await login(port, user, secret, "off")

    async def drain_replies():
        while not stop.is_set():
            try:
                await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 0.5)
            except asyncio.TimeoutError:
                continue
            except (asyncio.IncompleteReadError, ConnectionError):
                return

    drainer = asyncio.create_task(drain_replies())
    interval = 1.0 / rate if rate > 0 else None
    next_at = time.monotonic()
    while interval and not stop.is_set():
        writer.write(f"Action: UserEvent\r\nUserEvent: Bench\r\nSentAt: {time.monotonic_ns()}\r\n\r\n".encode())
        sent[0] += 1
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    await drainer
    writer.close()


def probe_call(server: tuple[str, int], number: str, probes: dict) -> None:
    """One call from `number`: INVITE (time recorded), then ACK and BYE once answered."""
    from siplib import RawUac, UdpSipClient, new_branch
    with UdpSipClient(server) as client:
        uac = RawUac(client, number, "100")
        probes[number] = time.monotonic_ns()
        client.send(uac.invite(new_branch(), 1))
        final = [r for r in client.collect(5.0) if r.code >= 200]
        if not final or final[-1].code != 200:
            return
        to_hdr = final[-1].header("To")
        client.send(uac.in_dialog("ACK", uac.uri, new_branch(), 1, to_hdr))
        client.send(uac.in_dialog("BYE", uac.uri, new_branch(), 2, to_hdr))
        client.collect(2.0)


async def prober(sip: str, stop: asyncio.Event, probes: dict) -> None:
    host, port = sip.rsplit(":", 1)
    n = 0
    while not stop.is_set():
        n += 1
        await asyncio.to_thread(probe_call, (host, int(port)), f"probe{n}", probes)
        await asyncio.sleep(0.5)


async def main(args):
    stop = asyncio.Event()
    counts: collections.Counter = collections.Counter()
    delays: list = []
    sent = [0]
    probes: dict = {}
    sip_delays: list = []
    subs = [asyncio.create_task(subscriber(args.port, args.user, args.secret, stop, counts, delays, probes, sip_delays))
            for _ in range(args.clients)]
    await asyncio.sleep(1.0)   # logins done
    counts.clear()
    start = time.monotonic()
    pub = asyncio.create_task(publisher(args.port, args.user, args.secret, args.rate, stop, sent))
    probe = asyncio.create_task(prober(args.sip, stop, probes)) if args.sip else None
    await asyncio.sleep(args.duration)
    stop.set()
    elapsed = time.monotonic() - start
    await asyncio.gather(pub, *subs, *([probe] if probe else []))
    total = sum(v for k, v in counts.items() if k != "disconnected")
    delays.sort()
    sip_delays.sort()
    result = {
        "clients": args.clients, "userevents_sent": sent[0], "seconds": round(elapsed, 2),
        "events_delivered": total, "events_per_s": round(total / elapsed),
        "delay_ms_p50": round(statistics.median(delays), 2) if delays else None,
        "delay_ms_p99": round(delays[int(len(delays) * 0.99) - 1], 2) if delays else None,
        "newchannel": counts["Newchannel"], "hangup": counts["Hangup"], "disconnected": counts["disconnected"],
        "probe_calls": len(probes), "sip_to_newchannel_ms_p50": round(statistics.median(sip_delays), 2) if sip_delays else None,
        "sip_to_newchannel_ms_max": round(sip_delays[-1], 2) if sip_delays else None,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=5038)
    p.add_argument("--user", default="admin")
    p.add_argument("--secret", default="amipass")
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--rate", type=float, default=200)
    p.add_argument("--duration", type=float, default=10)
    p.add_argument("--sip", help="pbxd's SIP host:port for probe calls (SIP-to-event delay)")
    asyncio.run(main(p.parse_args()))
