"""`fedgate dev`: the local loop of a service team. Compose from SDL files and running subgraphs,
serve the gateway with the explorer, recompose on every change, keep the last good supergraph.

Like `cli`, this is a command package: it drives composition and the server, and nothing imports it
but `gateway.cli`.
"""

from gateway.dev.command import dev

__all__ = ["dev"]
