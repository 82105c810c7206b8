"""Request batching (a JSON array of operations in one POST) and response compression, over real HTTP.

Batch entries must run concurrently: the `pair` subgraph answers only once two requests are inside
it at the same time, so a gateway running a batch one entry after the other gets an error instead.
Subgraph compression: a subgraph that compresses its answers (Starlette's GZipMiddleware, and brotli
by hand) is decoded by both HTTP clients, and only asked to compress when configured.
"""

from __future__ import annotations

import asyncio
import gzip
import threading
from collections.abc import Iterator
from typing import Any

import brotli
import httpx
import orjson
import pytest
from shop import ServerThread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from gateway.composition import SubgraphInput, compose
from gateway.config import CompressionConfig, GatewayConfig
from gateway.server import create_app
from gateway.server.compression import CompressionMiddleware
from gateway.supergraph import load_supergraph

PAIR_SDL = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { pair(n: Int!): Int text(size: Int!): String }
"""


class PairSubgraph:
    """`pair(n)` returns n once a second `pair` request is in flight; `text(size)` returns size x's.

    Runs in the server thread's own event loop; records the Accept-Encoding of each request.
    """

    def __init__(self) -> None:
        self.inside = 0
        self.both: asyncio.Event | None = None
        self.encodings: list[str | None] = []
        self.compress = False

    def app(self) -> Starlette:
        async def graphql(request: Request) -> Response:
            body = orjson.loads(await request.body())
            self.encodings.append(request.headers.get("accept-encoding"))
            query = body["query"]
            if "pair" in query:
                if self.both is None:
                    self.both = asyncio.Event()
                self.inside += 1
                if self.inside >= 2:
                    self.both.set()
                try:
                    await asyncio.wait_for(self.both.wait(), 5)
                    data: dict[str, Any] = {"data": {"pair": body["variables"]["n"]}}
                except TimeoutError:
                    data = {"data": None, "errors": [{"message": "ran alone: the batch was not concurrent"}]}
                finally:
                    self.inside -= 1
            elif "text" in query:
                data = {"data": {"text": "x" * body["variables"]["size"]}}
            else:  # _service { sdl } is not asked by the gateway; anything else is a test bug
                data = {"errors": [{"message": "unexpected " + query}]}
            raw = orjson.dumps(data)
            accepted = request.headers.get("accept-encoding", "")
            if self.compress and "br" in accepted:
                return Response(brotli.compress(raw), media_type="application/json", headers={"content-encoding": "br"})
            return Response(raw, media_type="application/json")

        app = Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])
        app.add_middleware(GZipMiddleware, minimum_size=0)  # gzip only when asked for it and not br
        return app


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[PairSubgraph, str]]:
    sub = PairSubgraph()
    with ServerThread(sub.app()) as server:
        result = compose([SubgraphInput("pair", server.url, PAIR_SDL)])
        assert result.supergraph_sdl is not None, result.errors
        yield sub, result.supergraph_sdl


def _gateway(sdl: str, **config: Any) -> ServerThread:
    return ServerThread(create_app(load_supergraph(sdl), GatewayConfig.model_validate(config)), lifespan="on")


def post(url: str, body: Any, **headers: str) -> httpx.Response:
    return httpx.post(url, content=orjson.dumps(body), headers={"content-type": "application/json", **headers}, timeout=20)


PAIR_QUERY = "query($n: Int!) { pair(n: $n) }"


def test_batch_is_refused_unless_enabled(pair):
    _, sdl = pair
    with _gateway(sdl) as gw:
        response = post(gw.url, [{"query": "{ __typename }"}])
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BATCHING_NOT_ENABLED"


def test_batch_runs_concurrently_and_answers_in_order(pair):
    _, sdl = pair
    with _gateway(sdl, batching={"enabled": True, "max_size": 4}) as gw:
        response = post(
            gw.url,
            [
                {"query": PAIR_QUERY, "variables": {"n": 1}},
                {"query": "{ nope }"},
                "not an object",
                {"query": PAIR_QUERY, "variables": {"n": 2}},
            ],
        )
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        first, invalid, not_object, last = response.json()
        assert first == {"data": {"pair": 1}}  # both pair entries were inside the subgraph at once
        assert last == {"data": {"pair": 2}}
        assert invalid["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert not_object["errors"][0]["extensions"]["code"] == "BAD_REQUEST"

        too_many = post(gw.url, [{"query": "{ __typename }"}] * 5)
        assert too_many.status_code == 400
        assert too_many.json()["errors"][0]["extensions"]["code"] == "BATCH_LIMIT_EXCEEDED"
        assert post(gw.url, []).status_code == 400
        # A plain object is still a single operation.
        assert post(gw.url, {"query": "{ __typename }"}).json() == {"data": {"__typename": "Query"}}


TEXT_QUERY = "query($size: Int!) { text(size: $size) }"


def _raw(url: str, size: int, accept_encoding: str) -> httpx.Response:
    headers = {"content-type": "application/json", "accept-encoding": accept_encoding}
    # A raw stream: httpx would decode the body itself, and the test wants to see the bytes sent.
    with httpx.Client(timeout=20) as client:
        request = client.build_request(
            "POST", url, content=orjson.dumps({"query": TEXT_QUERY, "variables": {"size": size}}), headers=headers
        )
        response = client.send(request, stream=True)
        raw = b"".join(response.iter_raw())
        response.close()
    response._content = raw  # the bytes on the wire
    return response


def test_responses_are_compressed_by_accept_encoding_above_the_threshold(pair):
    _, sdl = pair
    expected = orjson.dumps({"data": {"text": "x" * 5000}})
    with _gateway(sdl, compression={"enabled": True, "min_size": 1024}) as gw:
        br = _raw(gw.url, 5000, "gzip, deflate, br")
        assert br.headers["content-encoding"] == "br"
        assert "accept-encoding" in br.headers["vary"].lower()
        assert brotli.decompress(br.content) == expected
        assert int(br.headers["content-length"]) == len(br.content) < len(expected) // 10

        gz = _raw(gw.url, 5000, "gzip")
        assert gz.headers["content-encoding"] == "gzip"
        assert gzip.decompress(gz.content) == expected

        preferred = _raw(gw.url, 5000, "br;q=0.5, gzip;q=1")
        assert preferred.headers["content-encoding"] == "gzip"

        for small_or_plain in (_raw(gw.url, 10, "br"), _raw(gw.url, 5000, ""), _raw(gw.url, 5000, "identity")):
            assert "content-encoding" not in small_or_plain.headers
            assert orjson.loads(small_or_plain.content)["data"]["text"]

    with _gateway(sdl) as gw:  # on by default
        assert _raw(gw.url, 5000, "br").headers["content-encoding"] == "br"
    with _gateway(sdl, compression={"enabled": False}) as gw:
        assert "content-encoding" not in _raw(gw.url, 5000, "br").headers


@pytest.mark.parametrize("client", ["native", "httpx"])
def test_subgraph_responses_compressed_on_request_are_decoded(pair, client):
    sub, sdl = pair
    for compress in (True, False):
        for subgraph_brotli in (True, False):
            sub.compress = subgraph_brotli
            sub.encodings.clear()
            traffic = {"client": client, "all": {"compression": compress}}
            with _gateway(sdl, traffic_shaping=traffic) as gw:
                body = post(gw.url, {"query": TEXT_QUERY, "variables": {"size": 3000}}).json()
            assert body == {"data": {"text": "x" * 3000}}, (compress, subgraph_brotli)
            if compress:
                assert sub.encodings == ["br, gzip"]
            else:
                assert sub.encodings in ([None], ["identity"])
    sub.compress = False


@pytest.mark.parametrize("media_type", ["text/event-stream", "multipart/mixed; boundary=\"-\""])
def test_streams_open_at_once_and_pass_uncompressed(media_type):
    """A stream's headers reach the client before its first part exists (an SSE subscription waits
    for an event), and its parts are sent as they come, never compressed or held back."""
    release = threading.Event()

    async def stream(request: Request) -> StreamingResponse:
        async def parts() -> Any:
            while not release.is_set():  # the first part exists only once the client saw the headers
                await asyncio.sleep(0.01)
            yield b"event: next\ndata: " + b"x" * 5000 + b"\n\n"
            yield b"event: complete\ndata:\n\n"

        return StreamingResponse(parts(), media_type=media_type)

    config = CompressionConfig(min_size=0)
    app = Starlette(routes=[Route("/graphql", stream)], middleware=[Middleware(CompressionMiddleware, config=config)])
    with ServerThread(app) as server, httpx.Client(timeout=60) as client:
        with client.stream("GET", server.url, headers={"accept-encoding": "br, gzip"}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith(media_type.split(";")[0])
            assert "content-encoding" not in response.headers
            release.set()
            body = b"".join(response.iter_raw())
    assert body == b"event: next\ndata: " + b"x" * 5000 + b"\n\nevent: complete\ndata:\n\n"
