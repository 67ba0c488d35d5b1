"""Local HubSpot- and Salesforce-compatible API servers and a realistic data generator."""
