"""The command line and the composition roots that build connectors, stores and tools."""
