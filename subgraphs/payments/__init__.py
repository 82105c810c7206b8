"""The payments subgraph: payments and refunds of orders (port 4002)."""
