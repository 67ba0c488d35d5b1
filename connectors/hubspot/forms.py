"""Form names for `form_submission` events, from HubSpot's Forms API.

A model matches a form by name (`where: {form: {contains: demo}}`). Which properties of an
`e_submitted_form` event the Events API sends is not documented anywhere we could find; what
HubSpot does document is the Forms API: `GET /marketing/v3/forms/{formId}` answers the form's
definition with its `name` (OpenAPI spec `Marketing/Forms/.../v3/forms.json`, scope `forms`;
`hubspot.marketing.forms.FormsApi.get_by_id` in the SDK). So an event that names its form
(`hs_form_title`, `hs_form_name`) keeps that name, and one that carries only `hs_form_id` gets
the form's name from the Forms API, asked once per form per read. A form the API does not know
(deleted) or a token without the `forms` scope leaves the id as the name, so rules on the
name do not fire, and nothing fails.
"""

from __future__ import annotations

import threading

from connectors.errors import MissingPermission
from connectors.hubspot.api import HubSpotApi
from connectors.hubspot.errors import HubSpotRejected

__all__ = ["FormNames"]


class FormNames:
    """Form names by id for one read; thread-safe, one Forms API call per distinct form."""

    def __init__(self, api: HubSpotApi) -> None:
        self._api = api
        self._names: dict[str, str] = {}
        self._refused = False
        self._lock = threading.Lock()

    def name(self, form_id: str) -> str:
        """The form's name, or `form_id` when the Forms API cannot say."""
        with self._lock:
            known = self._names.get(form_id)
            if known is not None:
                return known
            if self._refused:
                return form_id
            try:
                data = self._api.call("forms.read", self._api.forms_api.get_by_id, form_id).data
            except MissingPermission:
                self._refused = True  # no `forms` scope: ids stay ids for the rest of the read
                return form_id
            except HubSpotRejected as exc:
                if exc.status != 404:
                    raise
                data = {}
            name = data.get("name") if isinstance(data, dict) else None
            self._names[form_id] = name if isinstance(name, str) and name else form_id
            return self._names[form_id]
