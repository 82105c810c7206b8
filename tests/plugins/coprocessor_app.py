"""A coprocessor as a team in another language would write one, speaking Apollo Router's protocol.

RouterRequest: a request with `x-deny` is refused with 403; an operation named `Legacy` that asks
for the retired field `oldPublic` is rewritten to ask for `public`; the context records the
client's `x-user`.
SubgraphRequest: adds `x-coprocessor-user` from the context to every subgraph request.
Every call it receives is kept in `CALLS` for the test to read.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

CALLS: list[dict[str, Any]] = []


async def handle(request: Request) -> Response:
    payload = orjson.loads(await request.body())
    CALLS.append(payload)
    stage = payload["stage"]
    if stage == "RouterRequest":
        headers = payload.get("headers", {})
        if "x-deny" in headers:
            payload["control"] = {"break": 403}
            payload["body"] = orjson.dumps(
                {"errors": [{"message": "Denied by policy.", "extensions": {"code": "POLICY_DENIED"}}]}
            ).decode()
            return Response(orjson.dumps(payload), media_type="application/json")
        body = orjson.loads(payload["body"])
        if body.get("operationName") == "Legacy":
            body["query"] = body["query"].replace("oldPublic", "public")
            payload["body"] = orjson.dumps(body).decode()
        user = headers.get("x-user", ["anonymous"])[0]
        payload.setdefault("context", {}).setdefault("entries", {})["user"] = user
    elif stage == "SubgraphRequest":
        user = payload.get("context", {}).get("entries", {}).get("user", "none")
        payload.setdefault("headers", {})["x-coprocessor-user"] = [user]
    return Response(orjson.dumps(payload), media_type="application/json")


app = Starlette(routes=[Route("/", handle, methods=["POST"])])
