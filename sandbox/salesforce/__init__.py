"""A Salesforce-compatible sandbox org: OAuth, SOQL query, describe, sObject Collections,
composite, Tooling `CustomField`, permission sets, Bulk API 2.0 ingest, limits and faults."""

from sandbox.salesforce.server import SalesforceSandbox

__all__ = ["SalesforceSandbox"]
