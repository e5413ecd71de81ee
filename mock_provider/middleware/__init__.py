"""Pure ASGI middleware: cross-cutting behaviour configured by constructor arguments."""
