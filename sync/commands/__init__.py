"""CLI command groups, one module per concern; `sync.cli` registers them."""
