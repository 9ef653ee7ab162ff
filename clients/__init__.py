"""Clients of Switchboard's protocol v1, outside the server."""
