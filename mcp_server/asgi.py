"""ASGI entry of the MCP server process: `uvicorn mcp_server.asgi:app --port 8001`.
Streamable HTTP at /mcp/ (the SDK's app runs its session manager in the lifespan)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from mcp_server.server import build_server, transport_security  # noqa: E402

app = build_server().streamable_http_app(streamable_http_path="/mcp/", transport_security=transport_security())
