"""A one-field subgraph that answers slowly and counts the requests it got (GET /count).

Run as `python tests/server/slow_subgraph.py PORT`; used by test_request_dedup.py.
"""

from __future__ import annotations

import asyncio
import json
import sys

import uvicorn

COUNT = 0


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    global COUNT
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["path"] == "/count":
        payload = json.dumps({"count": COUNT}).encode()
    elif scope["path"] == "/health":
        payload = b'{"ok": true}'
    else:
        COUNT += 1
        query = json.loads(body or b"{}")
        n = (query.get("variables") or {}).get("n", 1)
        await asyncio.sleep(0.5)
        payload = json.dumps({"data": {"slow": n}}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": payload})


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
