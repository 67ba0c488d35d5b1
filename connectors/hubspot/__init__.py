"""The HubSpot connector (`hubspot-api-client`): contacts and companies, read and scored back."""

from connectors.hubspot.connector import KINDS, HubSpotConnector
from connectors.hubspot.options import HubSpotOptions

__all__ = ["KINDS", "HubSpotConnector", "HubSpotOptions"]
