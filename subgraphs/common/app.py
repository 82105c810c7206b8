"""The Starlette app every subgraph serves: POST/GET /graphql, GET /health and (with a bus) GET /metrics."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from ariadne.asgi import GraphQL
from ariadne.asgi.handlers import GraphQLTransportWSHandler
from ariadne.contrib.sse import GraphQLHTTPSSEHandler
from graphql import GraphQLSchema
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from subgraphs.common.bus import EventBus
from subgraphs.common.db import Database
from subgraphs.common.errors import SubgraphError

Hook = Callable[[], Awaitable[None]]

_LOGGER_NAME = "subgraphs.graphql"


class _SkipDomainErrors(logging.Filter):
    """ariadne logs every resolver error with a traceback; a rejected mutation is not a fault."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        original = getattr(error, "original_error", None)
        return not isinstance(error, SubgraphError) and not isinstance(original, SubgraphError)


logging.getLogger(_LOGGER_NAME).addFilter(_SkipDomainErrors())


def create_app(
    name: str,
    schema: GraphQLSchema,
    db: Database,
    *,
    on_shutdown: Sequence[Hook] = (),
    bus: EventBus | None = None,
) -> Starlette:
    """Serve `schema`; open `db` (creating and seeding it) at startup and close it at shutdown.

    With a `bus`, its relay, consumer and timers run while the app does, and /metrics serves its metrics.
    """

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await db.open()
        if bus is not None:
            await bus.start()
        try:
            yield
        finally:
            if bus is not None:
                await bus.stop()
            for hook in on_shutdown:
                await hook()
            await db.close()

    async def health(_request: Request) -> JSONResponse:
        await db.read(lambda conn: conn.execute("SELECT 1").fetchone())
        return JSONResponse({"status": "ok", "subgraph": name})

    # Subscriptions: graphql-transport-ws on the same path, and GraphQL over SSE for POSTs that
    # accept text/event-stream (what fedgate uses upstream, per subgraph).
    graphql_app = GraphQL(
        schema,
        debug=False,
        logger=_LOGGER_NAME,
        http_handler=GraphQLHTTPSSEHandler(),
        websocket_handler=GraphQLTransportWSHandler(),
    )
    routes: list[Route | WebSocketRoute] = [
        Route("/health", health, methods=["GET"]),
        Route("/graphql", graphql_app, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql_app),
    ]
    if bus is not None:
        routes.append(Route("/metrics", bus.metrics_endpoint, methods=["GET"]))
    return Starlette(routes=routes, lifespan=lifespan)
