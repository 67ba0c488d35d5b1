"""CRM connectors: I/O with one CRM each, behind the small `Connector` protocol."""
