"""HTTP endpoints of the mock provider, one module per area."""
