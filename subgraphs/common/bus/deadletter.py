"""`python -m subgraphs.common.bus.deadletter`: look at, replay or drop dead-lettered events.

    list   GROUP            every parked entry: its id, event type and order, deliveries, last error
    replay GROUP [ID ...]   publish the event again on the stream it came from, then remove it here
    drop   GROUP ID ...     remove entries for good (after fixing or compensating by hand)

Replaying is safe: every consumer group that already applied the event skips it by its id.
Uses REDIS_URL and EVENTS_PREFIX like the services.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import orjson
import redis

from subgraphs.common.bus.events import dead_letter_stream
from subgraphs.common.bus.settings import BusSettings


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m subgraphs.common.bus.deadletter", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["list", "replay", "drop"])
    parser.add_argument("group", help="the consuming service: orders, payments or delivery")
    parser.add_argument("ids", nargs="*", help="dead-letter entry ids (replay: all when none)")
    args = parser.parse_args(argv)
    settings = BusSettings.from_env(args.group)
    if not settings.redis_url:
        print("REDIS_URL is not set", file=sys.stderr)
        return 2
    client = redis.Redis.from_url(settings.redis_url)
    stream = dead_letter_stream(settings.prefix, args.group)
    entries: Any = client.xrange(stream)
    wanted = set(args.ids)
    chosen = [(entry_id, fields) for entry_id, fields in entries if not wanted or _text(entry_id) in wanted]
    if args.command == "list":
        for entry_id, fields in chosen:
            try:
                event = orjson.loads(fields[b"event"])
                what = f"{event.get('type')} order {event.get('orderId')} event {event.get('id')}"
            except orjson.JSONDecodeError:
                what = f"unreadable entry {fields.get(b'event', b'')[:40]!r}"
            print(f"{_text(entry_id)}  from {_text(fields[b'stream'])} {_text(fields[b'entry'])}  {what}  "
                  f"deliveries={_text(fields[b'deliveries'])}  error={_text(fields[b'error'])}")
        print(f"{len(chosen)} of {len(entries)} entries in {stream}")
        return 0
    if args.command == "drop" and not wanted:
        print("drop needs the ids of the entries to remove", file=sys.stderr)
        return 2
    for entry_id, fields in chosen:
        if args.command == "replay":
            client.xadd(_text(fields[b"stream"]), {"event": fields[b"event"]})
        client.xdel(stream, entry_id)
        print(f"{args.command}ed {_text(entry_id)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
