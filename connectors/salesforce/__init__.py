"""The Salesforce connector (simple-salesforce): leads and contacts, scores written back."""

from connectors.salesforce.connector import SalesforceConnector

__all__ = ["SalesforceConnector"]
