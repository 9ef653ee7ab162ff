"""Switchboard's load generator: protocol v1 over WebSockets with Bearer tokens."""
