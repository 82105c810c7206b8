"""The delivery subgraph: agents, deliveries and the restaurant partner directory (port 4003)."""
