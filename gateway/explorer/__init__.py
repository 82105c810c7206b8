"""The explorer page: GraphiQL (shipped in the package, no CDN) with the query plan drawn beside it.

The server mounts `ExplorerMiddleware` only while `explorer.enabled`; API calls to `/graphql` pass
through it untouched.
"""

from gateway.explorer.page import TRACE_HEADER, ExplorerMiddleware, PlanFor

__all__ = ["TRACE_HEADER", "ExplorerMiddleware", "PlanFor"]
