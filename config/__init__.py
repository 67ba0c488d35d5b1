"""Configuration: settings, the YAML config loader and the scoring-model loader."""
