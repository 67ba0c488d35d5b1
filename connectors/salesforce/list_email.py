"""List-email results (`ListEmailSentResult`, API 67.0+): whether this org has them, and how.

Salesforce's field reference says the object exists from API version 67.0 and lists engagement
fields on it (`FirstOpenedDate`, `FirstClickedDate`, `LastClickedDate`, `HasReply`, ...), but
describe-generated schemas of real 67.0 orgs lack those fields: they depend on an org feature.
So nothing is assumed. The first time a model's email rules need it, and again once a day
after that (a daemon runs for months: the org may gain API 67.0 in a release, or the
integration user the object's permission), `ListEmailDiscovery.access` asks:

1. `GET /services/data/` (the Versions resource; no session needed, so not charged to the
   share) whether the org serves API 67.0 or later;
2. if so, one counted `describe` of `ListEmailSentResult` at that version: whether the
   integration user sees the object, and which engagement fields it has.

The answer (`ListEmailAccess`) is logged when first learned or when it changes, and shown by
`leadsync doctor`. The object is
then read at that version only (the connector's other calls stay on its configured version),
selecting only the fields the describe showed; where it is absent, email events come from
EmailMessage and EmailStatus as before.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from connectors.errors import MissingPermission, RequestRejected
from connectors.salesforce.activity import (
    ActivitySource,
    list_email_events,
    list_email_filter,
)
from connectors.salesforce.client import SalesforceApi

log = logging.getLogger("leadsync.salesforce")

OBJECT = "ListEmailSentResult"
#: Seconds an answer is trusted before the org is asked again (a day: two calls, one counted).
RECHECK_S = 86_400.0
#: The first API version serving `ListEmailSentResult` (Salesforce's field reference).
FIRST_VERSION = "67.0"
#: The engagement fields read per event type, in the order they are selected.
ENGAGEMENT: Mapping[str, tuple[str, ...]] = {
    "email_open": ("FirstOpenedDate",),
    "email_click": ("FirstClickedDate", "LastClickedDate"),
    "email_reply": ("HasReply",),
}
#: Fields every read selects besides the engagement ones (in the describe of every 67.0 org).
BASE_FIELDS = ("Id", "RecipientId", "ActivityId", "ListEmailId", "CreatedDate")
#: What an event type needs before it can come from the object: its date (a reply: the flag).
NEEDED: Mapping[str, str] = {
    "email_open": "FirstOpenedDate",
    "email_click": "FirstClickedDate",
    "email_reply": "HasReply",
}


@dataclass(frozen=True)
class ListEmailAccess:
    """What the org offers: the version to read at (None: not read), the engagement fields its
    describe shows, and a sentence saying so."""

    version: str | None
    fields: frozenset[str]
    note: str

    def produces(self) -> frozenset[str]:
        """The email event types the object can give on this org."""
        if self.version is None:
            return frozenset()
        return frozenset(t for t, name in NEEDED.items() if name in self.fields)

    def source(self, event_types: Collection[str]) -> ActivitySource | None:
        """The activity source reading the object for `event_types`, or None when it gives none
        of them here."""
        wanted = self.produces() & set(event_types)
        if not wanted or self.version is None:
            return None
        engagement = tuple(
            name
            for event_type in ("email_open", "email_click", "email_reply")
            if event_type in wanted
            for name in ENGAGEMENT[event_type]
            if name in self.fields
        )
        return ActivitySource(
            OBJECT,
            None,
            {"Lead": "RecipientId", "Contact": "RecipientId"},
            (*BASE_FIELDS, *engagement),
            frozenset(wanted),
            lambda types, days: list_email_filter(types, days, engagement),
            "CreatedDate",
            list_email_events,
            version=self.version,
            task_field="ActivityId",
        )


def _newest(versions: Any) -> str | None:
    """The newest version number of a Versions resource body, if any."""
    numbers = [
        str(v.get("version")) for v in versions or [] if isinstance(v, Mapping) and v.get("version")
    ]
    return max(numbers, key=float, default=None)


class ListEmailDiscovery:
    """Finds whether the org offers `ListEmailSentResult` (see the module): asked on the first
    need, then again once `recheck_s` seconds of `clock` have passed since."""

    def __init__(
        self,
        api: SalesforceApi,
        *,
        clock: Callable[[], float] = time.monotonic,
        recheck_s: float = RECHECK_S,
    ) -> None:
        self._api = api
        self._clock = clock
        self._recheck_s = recheck_s
        self._access: ListEmailAccess | None = None
        self._asked_at = 0.0
        self._lock = threading.Lock()

    @property
    def known(self) -> ListEmailAccess | None:
        """The answer, if it was asked for already (no call)."""
        return self._access

    def access(self) -> ListEmailAccess:
        """The org's answer: asked on the first call, then remembered for `recheck_s`."""
        with self._lock:
            now = self._clock()
            if self._access is None or now - self._asked_at >= self._recheck_s:
                found, before = self._discover(), self._access
                self._access, self._asked_at = found, now
                if before is None or found != before:
                    log.info("%s", found.note, extra={"sobject": OBJECT})
            return self._access

    def _discover(self) -> ListEmailAccess:
        try:
            newest = _newest(self._api.versions())
        except RequestRejected as exc:
            return ListEmailAccess(
                None,
                frozenset(),
                f"{OBJECT} not read: the org did not list its API versions ({exc}); list-email "
                "opens count only where Salesforce also keeps an EmailStatus",
            )
        if newest is None or float(newest) < float(FIRST_VERSION):
            return ListEmailAccess(
                None,
                frozenset(),
                f"{OBJECT} not read: the org serves API versions up to {newest or 'unknown'}, "
                f"the object needs {FIRST_VERSION}; list-email opens count only where "
                "Salesforce also keeps an EmailStatus",
            )
        try:
            body = self._api.rest("describe", f"sobjects/{OBJECT}/describe", version=FIRST_VERSION)
        except (MissingPermission, RequestRejected) as exc:
            return ListEmailAccess(
                None,
                frozenset(),
                f"{OBJECT} not read: the org serves API {newest} but the integration user "
                f"cannot describe the object at {FIRST_VERSION} ({exc}); list-email opens count "
                "only where Salesforce also keeps an EmailStatus",
            )
        names = {str(f.get("name")) for f in body.get("fields") or []}
        engagement = frozenset(n for fields in ENGAGEMENT.values() for n in fields if n in names)
        access = ListEmailAccess(FIRST_VERSION, engagement, "")
        given = sorted(access.produces())
        if not given:
            note = (
                f"{OBJECT} not read: the org has the object at API {FIRST_VERSION} but none of "
                f"its engagement fields ({', '.join(NEEDED.values())}); list-email opens count "
                "only where Salesforce also keeps an EmailStatus"
            )
            return ListEmailAccess(None, engagement, note)
        missing = sorted(set(NEEDED.values()) - engagement)
        note = (
            f"{OBJECT} read at API {FIRST_VERSION} for {', '.join(given)} "
            f"({', '.join(sorted(engagement))})"
        )
        if missing:
            note += f"; this org lacks {', '.join(missing)}"
        return ListEmailAccess(FIRST_VERSION, engagement, note)
