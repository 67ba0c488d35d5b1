"""A HubSpot-compatible sandbox CRM: the APIs leadsync uses, with HubSpot's payloads, paging,
limits, status codes and error bodies, over generated data.

Emulated (paths as on api.hubapi.com):
- CRM objects v3 for contacts, companies, meetings and calls: list, read, update, search,
  batch read, batch update (`sandbox.hubspot.crm`, `sandbox.hubspot.search`).
- Properties v3 and property groups (`sandbox.hubspot.properties`).
- Associations v4 batch read (`sandbox.hubspot.associations`).
- Events API v3 for page views and form submissions, Enterprise tier only
  (`sandbox.hubspot.events` explains the choice).
- OAuth `POST /oauth/v1/token` (refresh_token grant) and private-app tokens
  (`sandbox.hubspot.auth`); rate limits (`sandbox.hubspot.limits`); faults
  (`sandbox.hubspot.faults`); the `/_sandbox/` control API (`sandbox.hubspot.control`).
"""

from sandbox.hubspot.app import HubSpotSandbox
from sandbox.hubspot.faults import FaultRates, Faults

__all__ = ["FaultRates", "Faults", "HubSpotSandbox"]
