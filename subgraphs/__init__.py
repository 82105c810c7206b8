"""The three domain subgraphs (orders, payments, delivery) that fedgate federates."""
