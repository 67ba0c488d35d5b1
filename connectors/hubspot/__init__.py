"""The HubSpot connector (`hubspot-api-client`): contacts and companies, read and scored back."""

from connectors.hubspot.connector import KINDS, HubSpotConnector

__all__ = ["KINDS", "HubSpotConnector"]
