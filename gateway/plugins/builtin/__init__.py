"""Plugins that ship with fedgate, written only on the public API (`gateway.plugins`)."""
