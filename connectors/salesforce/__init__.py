"""The Salesforce connector (simple-salesforce): leads and contacts, scores written back."""

from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.options import SalesforceOptions

__all__ = ["SalesforceConnector", "SalesforceOptions"]
