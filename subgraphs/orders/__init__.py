"""The orders subgraph: customers, restaurants and their menus, orders (port 4001)."""
