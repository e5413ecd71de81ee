"""Run an ASGI app on a real uvicorn server on 127.0.0.1 for the length of a test."""

from harness.embedded import free_port, serve_in_thread

live_server = serve_in_thread

__all__ = ["free_port", "live_server"]
