"""A subgraph that misbehaves on request, and a well-behaved one beside it, for tests/hostile.

Run: python tests/hostile/hostile_subgraph.py --good-port N --hostile-port M

Raw asyncio HTTP/1.1, so every byte on the wire is chosen here. The `hostile` subgraph picks its
misbehaviour from the operation: `widget(mode: "<mode>")` for root fetches, and for `_entities`
fetches the prefix of the first representation's id (`<mode>:1`), which the `good` subgraph's
`products(mode: "<mode>")` hands out. `GET /stats` on the hostile port tells how many bytes of each
large answer were written before the gateway hung up.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import socket
import struct
from typing import Any

import orjson
from graphql import build_schema, graphql

GOOD_SDL = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query {
  ok: String
  products(mode: String!): [Product]
}
type Product @key(fields: "id") {
  id: ID!
  name: String
}
"""

HOSTILE_SDL = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
enum Status { ACTIVE RETIRED }
type Widget {
  id: ID!
  count: Int!
  status: Status
  tags: [String]
  ratio: Float
}
type Query {
  widget(mode: String!): Widget
}
type Product @key(fields: "id") {
  id: ID!
  stock: Int
  status: Status
}
"""

_GOOD_SCHEMA = build_schema("""
type Query { ok: String products(mode: String!): [Product] }
type Product { id: ID! name: String }
""")
_MODE = re.compile(r'mode:\s*\\?"([a-z0-9_]+)')
_ALIAS = re.compile(r"(\w+)\s*:\s*widget\b")
WIDGET = {"id": "w1", "count": 3, "status": "ACTIVE", "tags": ["a", "b"], "ratio": 0.5}
HTML = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"
STATS: dict[str, int] = {}
REQUESTS = {"reset": 0}


async def read_request(reader: asyncio.StreamReader) -> tuple[str, str, bytes] | None:
    """(method, path, body) of the next request on the connection; None when the client is gone."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    body = await reader.readexactly(length) if length else b""
    return method, path, body


def answer(status: int, body: bytes, content_type: bytes = b"application/json", extra: bytes = b"") -> bytes:
    return (b"HTTP/1.1 %d X\r\ncontent-type: %s\r\ncontent-length: %d\r\n%s\r\n" % (status, content_type, len(body), extra)
            + body)


def json_answer(payload: Any, extra: bytes = b"") -> bytes:
    return answer(200, orjson.dumps(payload), extra=extra)


async def good(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The well-behaved subgraph: graphql-core over a fixed root value."""
    try:
        while (request := await read_request(reader)) is not None:
            method, path, body = request
            if method == "GET":
                writer.write(json_answer({"status": "pass"}))
                continue
            payload = orjson.loads(body)

            def products(_info: Any, mode: str) -> list[dict[str, str]]:
                return [{"id": f"{mode}:1", "name": "one"}, {"id": f"{mode}:2", "name": "two"}]

            root = {"ok": "fine", "products": products}
            result = await graphql(_GOOD_SCHEMA, payload["query"], root, variable_values=payload.get("variables"))
            out: dict[str, Any] = {"data": result.data}
            if result.errors:
                out["errors"] = [e.formatted for e in result.errors]
            writer.write(json_answer(out))
            await writer.drain()
    finally:
        writer.close()


def entity_mode(payload: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    reps = (payload.get("variables") or {}).get("representations") or []
    mode = str(reps[0].get("id", "")).split(":", 1)[0] if reps else ""
    return mode, reps


def entities(mode: str, reps: list[dict[str, Any]]) -> Any:
    """The `_entities` answer for `mode`; None when the mode is not an entity misbehaviour."""
    fine = [{"__typename": "Product", "id": r["id"], "stock": 7, "status": "ACTIVE"} for r in reps]
    if mode == "fewer":
        return {"data": {"_entities": fine[:-1]}}
    if mode == "more":
        return {"data": {"_entities": [*fine, {"__typename": "Product", "id": "extra", "stock": 1}]}}
    if mode == "typename":
        return {"data": {"_entities": [{**fine[0], "__typename": "Widget"}, *fine[1:]]}}
    if mode == "nulls":
        return {"data": {"_entities": [None, *fine[1:]]}}
    if mode == "entwrong":
        return {"data": {"_entities": [{**fine[0], "stock": "lots", "status": "EXPLODED"}, *fine[1:]]}}
    return {"data": {"_entities": fine}}


async def hostile(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while (request := await read_request(reader)) is not None:
            method, path, body = request
            if method == "GET":
                writer.write(json_answer({"status": "pass", **STATS} if path == "/stats" else {"status": "pass"}))
                await writer.drain()
                continue
            payload = orjson.loads(body)
            query = payload.get("query", "")
            if "_entities" in query:
                mode, reps = entity_mode(payload)
                writer.write(json_answer(entities(mode, reps)))
                await writer.drain()
                continue
            found = _MODE.search(query) or _MODE.search(orjson.dumps(payload.get("variables") or {}).decode())
            mode = found.group(1) if found else "ok"
            alias = _ALIAS.search(query)
            if not await misbehave(mode, writer, alias.group(1) if alias else "widget"):
                return  # the misbehaviour ended the connection
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def misbehave(mode: str, writer: asyncio.StreamWriter, key: str = "widget") -> bool:
    """Write the answer for a root `widget(mode:)` fetch; False when the connection must end."""
    if mode == "ok":
        writer.write(json_answer({"data": {"widget": WIDGET}}))
    elif mode == "html502":
        writer.write(answer(502, HTML, b"text/html"))
    elif mode == "html200":
        writer.write(answer(200, HTML, b"text/html"))
    elif mode == "truncated":
        writer.write(answer(200, b'{"data":{"widget":{"id":"w1","cou'))
    elif mode == "cutoff":  # promises 1000 bytes, sends 20, hangs up
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n")
        writer.write(b'{"data":{"widget":{"')
        await writer.drain()
        return False
    elif mode == "notgraphql":
        writer.write(json_answer({"status": "ok", "widget": WIDGET}))
    elif mode == "jsonlist":
        writer.write(json_answer([1, 2, 3]))
    elif mode == "errorsnodata":
        writer.write(json_answer({"errors": [{"message": "database exploded"}]}))
    elif mode == "wrongint":
        writer.write(json_answer({"data": {"widget": {**WIDGET, "count": "many"}}}))
    elif mode == "wrongenum":
        writer.write(json_answer({"data": {"widget": {**WIDGET, "status": "EXPLODED"}}}))
    elif mode == "objectlist":
        writer.write(json_answer({"data": {"widget": {**WIDGET, "tags": [{"a": 1}, "b"], "ratio": "half"}}}))
    elif mode in ("huge", "hugechunked"):
        await huge(mode, writer)
        return False
    elif mode == "slowloris":  # headers, then nothing
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(3600)
    elif mode == "trickle":  # the answer, one byte a second
        data = json_answer({"data": {"widget": WIDGET}})
        for i in range(len(data)):
            writer.write(data[i : i + 1])
            await writer.drain()
            await asyncio.sleep(1)
    elif mode == "closeeach":
        writer.write(json_answer({"data": {"widget": WIDGET}}, b"connection: close\r\n"))
        await writer.drain()
        return False
    elif mode == "silentclose":  # keep-alive promised, connection dropped right after the answer
        writer.write(json_answer({"data": {"widget": WIDGET}}))
        await writer.drain()
        return False
    elif mode == "reset":  # every other request: RST instead of an answer
        REQUESTS["reset"] += 1
        if REQUESTS["reset"] % 2:
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        writer.write(json_answer({"data": {key: WIDGET}}))
    else:
        writer.write(json_answer({"errors": [{"message": f"unknown mode {mode}"}]}))
    return True


async def huge(mode: str, writer: asyncio.StreamWriter) -> None:
    """50 MB of JSON string, 64 KB at a time; how much got written is kept in STATS[mode]."""
    total = 50_000_000
    chunk = b"x" * 65536
    STATS[mode] = 0
    if mode == "huge":
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % total)
    else:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n")
    prefix = b'{"data":{"widget":{"id":"'
    writer.write(prefix if mode == "huge" else b"%x\r\n%s\r\n" % (len(prefix), prefix))
    try:
        while STATS[mode] < total:
            piece = chunk if mode == "huge" else b"%x\r\n%s\r\n" % (len(chunk), chunk)
            writer.write(piece)
            await writer.drain()
            STATS[mode] += len(chunk)
    except ConnectionError:
        pass


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--good-port", type=int, required=True)
    parser.add_argument("--hostile-port", type=int, required=True)
    args = parser.parse_args()
    good_server = await asyncio.start_server(good, "127.0.0.1", args.good_port)
    hostile_server = await asyncio.start_server(hostile, "127.0.0.1", args.hostile_port)
    async with good_server, hostile_server:
        await asyncio.gather(good_server.serve_forever(), hostile_server.serve_forever())


if __name__ == "__main__":
    asyncio.run(main())
