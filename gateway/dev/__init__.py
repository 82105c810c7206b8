"""`fedgate dev`: the local loop of a service team. Compose from SDL files and running subgraphs,
recompose on every change and hand each good supergraph to the server; the last good one stays.

The command itself (`gateway/cli.py`) wires this to the server: nothing here imports `server/`.
"""

from gateway.dev.asgi import WithDevLoop
from gateway.dev.loop import DevLoop, Offer
from gateway.dev.report import coordinate_at, format_errors, locate_name
from gateway.dev.sources import DevSources

__all__ = ["DevLoop", "DevSources", "Offer", "WithDevLoop", "coordinate_at", "format_errors", "locate_name"]
