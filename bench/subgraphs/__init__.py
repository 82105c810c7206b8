"""Python equivalents of The Guild's benchmark subgraphs (accounts, inventory, products, reviews)."""
