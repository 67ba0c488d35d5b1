"""Orchestration: plan, state store, ledger, daemon and the command line."""
