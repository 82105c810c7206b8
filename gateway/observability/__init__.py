"""Observability: metrics, tracing, logging."""
