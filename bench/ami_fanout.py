#!/usr/bin/env python3
"""N AMI clients subscribed to every event, counting what reaches them, while one more client
publishes UserEvents at a fixed rate (each carrying its send time). Prints events delivered per
second (all clients together), per-event delivery delay (UserEvent action sent → event read by
a subscriber; same host, CLOCK_MONOTONIC) and the call events seen (Newchannel, Hangup), which
come from whatever drives calls through pbxd meanwhile.

    bench/ami_fanout.py --port 5038 --user admin --secret amipass --clients 50 --rate 200 --duration 10
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import json
import statistics
import time


async def login(port: int, user: str, secret: str, events: str):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.readline()   # banner
    writer.write(f"Action: Login\r\nUsername: {user}\r\nSecret: {secret}\r\nEvents: {events}\r\n\r\n".encode())
    await writer.drain()
    return reader, writer


async def subscriber(port, user, secret, stop: asyncio.Event, counts: collections.Counter, delays: list):
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


async def main(args):
    stop = asyncio.Event()
    counts: collections.Counter = collections.Counter()
    delays: list = []
    sent = [0]
    subs = [asyncio.create_task(subscriber(args.port, args.user, args.secret, stop, counts, delays)) for _ in range(args.clients)]
    await asyncio.sleep(1.0)   # logins done
    counts.clear()
    start = time.monotonic()
    pub = asyncio.create_task(publisher(args.port, args.user, args.secret, args.rate, stop, sent))
    await asyncio.sleep(args.duration)
    stop.set()
    elapsed = time.monotonic() - start
    await asyncio.gather(pub, *subs)
    total = sum(v for k, v in counts.items() if k != "disconnected")
    delays.sort()
    result = {
        "clients": args.clients, "userevents_sent": sent[0], "seconds": round(elapsed, 2),
        "events_delivered": total, "events_per_s": round(total / elapsed),
        "delay_ms_p50": round(statistics.median(delays), 2) if delays else None,
        "delay_ms_p99": round(delays[int(len(delays) * 0.99) - 1], 2) if delays else None,
        "newchannel": counts["Newchannel"], "hangup": counts["Hangup"], "disconnected": counts["disconnected"],
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
    asyncio.run(main(p.parse_args()))
