"""CLI command groups, one module per concern; `cli.main` registers them."""
