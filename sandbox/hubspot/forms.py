"""The Forms API's read side: a form definition by id, and the list of forms.

Shapes from the OpenAPI spec `Marketing/Forms/.../v3/forms.json`: `GET /marketing/v3/forms/
{formId}` answers a `HubSpotFormDefinition` (`id`, `name`, `formType`, `createdAt`, `updatedAt`,
`archived`, `fieldGroups`, `configuration`, `displayOptions`, `legalConsentOptions`); `GET
/marketing/v3/forms` pages them (`after`, `limit`, `paging.next.after`). Both need the `forms`
scope. The sandbox knows the forms its generated contacts submit (`vocabulary.FORMS`), by the id
`events.form_id` gives them; the definitions' configuration and field groups are left empty.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sandbox.httpserver import Request, Response
from sandbox.hubspot import errors
from sandbox.hubspot.events import form_id
from sandbox.hubspot.vocabulary import FORMS

__all__ = ["SCOPE", "FormsApi", "scopes"]

SCOPE = "forms"
CREATED = "2024-03-01T09:00:00Z"


def scopes(_params: dict[str, str]) -> Iterable[str]:
    """Every Forms API route needs the `forms` scope."""
    return (SCOPE,)


def _definition(name: str) -> dict[str, Any]:
    return {
        "id": form_id(name),
        "name": name,
        "formType": "hubspot",
        "createdAt": CREATED,
        "updatedAt": CREATED,
        "archived": False,
        "fieldGroups": [],
        "configuration": {},
        "displayOptions": {},
        "legalConsentOptions": {"type": "none"},
    }


class FormsApi:
    """The forms of the sandbox account."""

    def __init__(self) -> None:
        self._forms = {form_id(name): name for name, _, _ in FORMS}
        self._ids = sorted(self._forms)

    def get(self, request: Request) -> Response:
        """`GET /marketing/v3/forms/{formId}`."""
        name = self._forms.get(request.params["id"])
        if name is None:
            return errors.not_found(f"Form {request.params['id']} does not exist")
        return Response(200, _definition(name))

    def list(self, request: Request) -> Response:
        """`GET /marketing/v3/forms` (`limit` default 20, `after` an offset)."""
        limit = max(1, min(500, int(request.query.get("limit", ["20"])[0] or 20)))
        start = int(request.query.get("after", ["0"])[0] or 0)
        ids = self._ids[start : start + limit]
        body: dict[str, Any] = {"results": [_definition(self._forms[i]) for i in ids]}
        if start + limit < len(self._ids):
            body["paging"] = {"next": {"after": str(start + limit)}}
        return Response(200, body)
