"""Property definitions: HubSpot's default properties the sandbox serves, and custom ones.

A `PropertyDef` renders as the Properties API returns it
(https://developers.hubspot.com/docs/api/crm/properties). HubSpot-defined calculated properties
(analytics, email and conversion rollups, modification dates, `hs_object_id`) carry
`modificationMetadata.readOnlyValue = true` and refuse writes, as in HubSpot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Valid `type` -> `fieldType` pairs, enforced by HubSpot's v3 properties API since 2021
#: (https://developers.hubspot.com/changelog/crm-object-property-validattion).
FIELD_TYPES: dict[str, frozenset[str]] = {
    "bool": frozenset({"booleancheckbox", "calculation_equation"}),
    "enumeration": frozenset(
        {"booleancheckbox", "checkbox", "radio", "select", "calculation_equation"}
    ),
    "date": frozenset({"date"}),
    "datetime": frozenset({"date"}),
    "string": frozenset(
        {"file", "text", "textarea", "calculation_equation", "html", "phonenumber"}
    ),
    "number": frozenset({"number", "calculation_equation"}),
    "phone_number": frozenset({"phonenumber"}),
}

#: Object type names in URLs, their singular form (used in messages) and objectTypeId.
OBJECT_TYPES: dict[str, tuple[str, str]] = {
    "contacts": ("CONTACT", "0-1"),
    "companies": ("COMPANY", "0-2"),
    "deals": ("DEAL", "0-3"),
    "calls": ("CALL", "0-48"),
    "meetings": ("MEETING", "0-47"),
}
OBJECT_ALIASES: dict[str, str] = {
    "contact": "contacts",
    "company": "companies",
    "deal": "deals",
    "call": "calls",
    "meeting": "meetings",
    "0-1": "contacts",
    "0-2": "companies",
    "0-3": "deals",
    "0-48": "calls",
    "0-47": "meetings",
}


@dataclass
class PropertyDef:
    """One property of an object type."""

    name: str
    label: str
    type: str
    field_type: str
    group: str
    options: list[dict[str, Any]] = field(default_factory=list)
    read_only: bool = False
    hubspot_defined: bool = True
    description: str = ""
    display_order: int = -1
    has_unique_value: bool = False
    hidden: bool = False
    form_field: bool = False
    created_at: str = "2019-08-06T02:41:08.020Z"
    updated_at: str = "2019-08-06T02:41:08.020Z"
    option_values: frozenset[str] = field(default=frozenset(), init=False)

    def __post_init__(self) -> None:
        self.option_values = frozenset(str(option["value"]) for option in self.options)

    def to_json(self) -> dict[str, Any]:
        """The property as the Properties API returns it."""
        body: dict[str, Any] = {
            "updatedAt": self.updated_at,
            "createdAt": self.created_at,
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "description": self.description,
            "groupName": self.group,
            "options": self.options,
            "displayOrder": self.display_order,
            "calculated": self.read_only and self.hubspot_defined,
            "externalOptions": False,
            "hasUniqueValue": self.has_unique_value,
            "hidden": self.hidden,
            "hubspotDefined": self.hubspot_defined,
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyOptions": self.read_only,
                "readOnlyValue": self.read_only,
            },
            "formField": self.form_field,
            "dataSensitivity": "non_sensitive",
        }
        if not self.hubspot_defined:
            body.pop("hubspotDefined")
        return body


def options(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    """Enumeration options from (value, label) pairs, in display order."""
    return [
        {"label": label, "value": value, "description": "", "displayOrder": index, "hidden": False}
        for index, (value, label) in enumerate(pairs)
    ]


BOOL_OPTIONS = options(("true", "Yes"), ("false", "No"))

#: The stage ids of HubSpot's default deal pipeline ("Sales Pipeline", id `default`).
DEAL_STAGES: tuple[str, ...] = (
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
    "closedwon",
    "closedlost",
)
LIFECYCLE_STAGES: tuple[str, ...] = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)
EMPLOYEE_BANDS: tuple[str, ...] = ("1-5", "5-25", "25-50", "50-100", "100-500", "500-1000", "1000+")
ANALYTICS_SOURCES: tuple[str, ...] = (
    "ORGANIC_SEARCH",
    "PAID_SEARCH",
    "EMAIL_MARKETING",
    "SOCIAL_MEDIA",
    "REFERRALS",
    "OTHER_CAMPAIGNS",
    "DIRECT_TRAFFIC",
    "OFFLINE",
    "PAID_SOCIAL",
)
LEAD_STATUSES: tuple[str, ...] = (
    "NEW",
    "OPEN",
    "IN_PROGRESS",
    "OPEN_DEAL",
    "UNQUALIFIED",
    "ATTEMPTED_TO_CONTACT",
    "CONNECTED",
    "BAD_TIMING",
)
MEETING_OUTCOMES: tuple[str, ...] = ("SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW", "CANCELED")
#: HubSpot's default call dispositions are GUIDs
#: (https://developers.hubspot.com/docs/api/crm/calls, "hs_call_disposition").
CALL_DISPOSITIONS: dict[str, str] = {
    "f240bbac-87c9-4f6e-bf70-924b57d47db7": "Connected",
    "73a0d17f-1163-4015-bdd5-ec830791da20": "No answer",
    "b2cf5968-551e-4856-9783-52b3da59a7d0": "Left voicemail",
    "9d9162e7-6cf3-4944-bf63-4dff82258764": "Busy",
    "a4c4c377-d246-4b32-a13b-75a56a4cd0ff": "Left live message",
    "17b47fee-58de-441e-a44c-c6300d46f273": "Wrong number",
}
COMPANY_INDUSTRIES: tuple[str, ...] = (
    "COMPUTER_SOFTWARE",
    "INFORMATION_TECHNOLOGY_AND_SERVICES",
    "FINANCIAL_SERVICES",
    "HOSPITAL_HEALTH_CARE",
    "MARKETING_AND_ADVERTISING",
    "RETAIL",
    "MACHINERY",
    "LOGISTICS_AND_SUPPLY_CHAIN",
    "EDUCATION_MANAGEMENT",
    "TELECOMMUNICATIONS",
    "INSURANCE",
    "REAL_ESTATE",
    "NONPROFIT_ORGANIZATION_MANAGEMENT",
    "MANAGEMENT_CONSULTING",
)


def _label(value: str) -> str:
    return value.replace("_", " ").title()


def _p(  # noqa: PLR0913, PLR0917  a table row builder
    name: str,
    label: str,
    type_: str,
    field_type: str,
    group: str,
    opts: list[dict[str, Any]] | None = None,
    *,
    read_only: bool = False,
) -> PropertyDef:
    return PropertyDef(name, label, type_, field_type, group, opts or [], read_only=read_only)


#: The `fieldType` HubSpot gives its calculated properties of each `type`.
_CALCULATED_FIELD = {"number": "number", "datetime": "date", "string": "text"}


def _calculated(group: str, *rows: tuple[str, str, str]) -> list[PropertyDef]:
    """HubSpot's calculated (read-only) properties of one group, from (name, label, type)."""
    return [
        _p(name, label, kind, _CALCULATED_FIELD[kind], group, read_only=True)
        for name, label, kind in rows
    ]


def _common(group: str, modified: str) -> list[PropertyDef]:
    return [
        *_calculated(group, ("hs_object_id", "Record ID", "number")),
        _p("createdate", "Create Date", "datetime", "date", group),
        *_calculated(group, (modified, "Last Modified Date", "datetime")),
    ]


def contact_properties() -> list[PropertyDef]:
    """HubSpot's default contact properties the sandbox fills (and a few it leaves empty)."""
    ci, ai, ei, conv, sales = (
        "contactinformation",
        "analyticsinformation",
        "emailinformation",
        "conversioninformation",
        "sales_properties",
    )
    return [
        *_common(ci, "lastmodifieddate"),
        *_calculated(ci, ("hs_lastmodifieddate", "Object last modified date/time", "datetime")),
        _p("email", "Email", "string", "text", ci),
        _p("firstname", "First Name", "string", "text", ci),
        _p("lastname", "Last Name", "string", "text", ci),
        _p("jobtitle", "Job Title", "string", "text", ci),
        _p("company", "Company Name", "string", "text", ci),
        _p("industry", "Industry", "string", "text", ci),
        _p(
            "numemployees",
            "Number of Employees",
            "enumeration",
            "select",
            ci,
            options(*((band, band) for band in EMPLOYEE_BANDS)),
        ),
        _p("annualrevenue", "Annual Revenue", "number", "number", ci),
        _p("country", "Country/Region", "string", "text", ci),
        _p("city", "City", "string", "text", ci),
        _p("phone", "Phone Number", "string", "phonenumber", ci),
        _p("website", "Website URL", "string", "text", ci),
        _p("associatedcompanyid", "Primary Associated Company ID", "number", "number", ci),
        _p(
            "lifecyclestage",
            "Lifecycle Stage",
            "enumeration",
            "radio",
            ci,
            options(*((stage, _label(stage)) for stage in LIFECYCLE_STAGES)),
        ),
        _p(
            "hs_lead_status",
            "Lead Status",
            "enumeration",
            "radio",
            sales,
            options(*((status, _label(status)) for status in LEAD_STATUSES)),
        ),
        _p(
            "hs_analytics_source",
            "Original Traffic Source",
            "enumeration",
            "select",
            ai,
            options(*((source, _label(source)) for source in ANALYTICS_SOURCES)),
            read_only=True,
        ),
        *_calculated(
            ai,
            ("hs_analytics_num_page_views", "Number of Pageviews", "number"),
            ("hs_analytics_num_visits", "Number of Sessions", "number"),
            ("hs_analytics_last_visit_timestamp", "Time of Last Session", "datetime"),
        ),
        *_calculated(
            conv,
            ("num_conversion_events", "Number of Form Submissions", "number"),
            ("recent_conversion_event_name", "Recent Conversion", "string"),
            ("recent_conversion_date", "Recent Conversion Date", "datetime"),
            ("first_conversion_event_name", "First Conversion", "string"),
            ("first_conversion_date", "First Conversion Date", "datetime"),
        ),
        *_calculated(
            ei,
            ("hs_email_open", "Marketing emails opened", "number"),
            ("hs_email_click", "Marketing emails clicked", "number"),
            ("hs_email_delivered", "Marketing emails delivered", "number"),
            ("hs_email_last_open_date", "Last marketing email open date", "datetime"),
            ("hs_email_last_click_date", "Last marketing email click date", "datetime"),
        ),
        *_calculated(
            sales,
            ("hs_sales_email_last_replied", "Recent Sales Email Replied Date", "datetime"),
            ("notes_last_contacted", "Last Contacted", "datetime"),
            ("num_contacted_notes", "Number of times contacted", "number"),
            ("hs_last_sales_activity_timestamp", "Last Engagement Date", "datetime"),
        ),
        *_calculated(
            ci,
            *(
                (f"hs_lifecyclestage_{stage}_date", f"Became a {_label(stage)} Date", "datetime")
                for stage in LIFECYCLE_STAGES[:6]
            ),
        ),
    ]


def company_properties() -> list[PropertyDef]:
    """HubSpot's default company properties the sandbox fills."""
    ci = "companyinformation"
    return [
        *_common(ci, "hs_lastmodifieddate"),
        _p("name", "Company name", "string", "text", ci),
        _p("domain", "Company Domain Name", "string", "text", ci),
        _p(
            "industry",
            "Industry",
            "enumeration",
            "select",
            ci,
            options(*((value, _label(value)) for value in COMPANY_INDUSTRIES)),
        ),
        _p("numberofemployees", "Number of Employees", "number", "number", ci),
        _p("annualrevenue", "Annual Revenue", "number", "number", ci),
        _p("country", "Country/Region", "string", "text", ci),
        _p("city", "City", "string", "text", ci),
        _p("website", "Website URL", "string", "text", ci),
        _p(
            "lifecyclestage",
            "Lifecycle Stage",
            "enumeration",
            "radio",
            ci,
            options(*((stage, _label(stage)) for stage in LIFECYCLE_STAGES)),
        ),
        *_calculated(ci, ("num_associated_contacts", "Number of Associated Contacts", "number")),
    ]


def deal_properties() -> list[PropertyDef]:
    """Default deal properties a backtest reads (https://knowledge.hubspot.com/crm-deals/
    hubspots-default-deal-properties): stage, close date and HubSpot's calculated won flag."""
    di = "dealinformation"
    return [
        *_common(di, "hs_lastmodifieddate"),
        _p("dealname", "Deal Name", "string", "text", di),
        _p(
            "pipeline",
            "Pipeline",
            "enumeration",
            "select",
            di,
            options(("default", "Sales Pipeline")),
        ),
        _p(
            "dealstage",
            "Deal Stage",
            "enumeration",
            "radio",
            di,
            options(*((stage, _label(stage)) for stage in DEAL_STAGES)),
        ),
        _p("closedate", "Close Date", "datetime", "date", di),
        _p("amount", "Amount", "number", "number", di),
        _p(
            "hs_is_closed_won",
            "Is Closed Won",
            "bool",
            "booleancheckbox",
            di,
            BOOL_OPTIONS,
            read_only=True,
        ),
        _p(
            "hs_is_closed_lost",
            "Is closed lost",
            "bool",
            "booleancheckbox",
            di,
            BOOL_OPTIONS,
            read_only=True,
        ),
    ]


def _engagement_common(group: str) -> list[PropertyDef]:
    """The record id, create and modify dates and activity date of an engagement object."""
    return [
        *_calculated(
            group,
            ("hs_object_id", "Record ID", "number"),
            ("hs_createdate", "Create date", "datetime"),
            ("hs_lastmodifieddate", "Last modified date", "datetime"),
        ),
        _p("hs_timestamp", "Activity date", "datetime", "date", group),
    ]


def meeting_properties() -> list[PropertyDef]:
    """Default meeting properties (https://developers.hubspot.com/docs/api/crm/meetings)."""
    g = "meeting"
    return [
        *_engagement_common(g),
        _p("hs_meeting_title", "Meeting name", "string", "text", g),
        _p("hs_meeting_body", "Meeting description", "string", "textarea", g),
        _p("hs_meeting_start_time", "Start time", "datetime", "date", g),
        _p("hs_meeting_end_time", "End time", "datetime", "date", g),
        _p(
            "hs_meeting_outcome",
            "Meeting outcome",
            "enumeration",
            "select",
            g,
            options(*((value, _label(value)) for value in MEETING_OUTCOMES)),
        ),
    ]


def call_properties() -> list[PropertyDef]:
    """Default call properties (https://developers.hubspot.com/docs/api/crm/calls)."""
    g = "call"
    return [
        *_engagement_common(g),
        _p("hs_call_title", "Call title", "string", "text", g),
        _p("hs_call_body", "Call notes", "string", "textarea", g),
        _p(
            "hs_call_direction",
            "Call direction",
            "enumeration",
            "select",
            g,
            options(("INBOUND", "Inbound"), ("OUTBOUND", "Outbound")),
        ),
        _p(
            "hs_call_disposition",
            "Call outcome",
            "enumeration",
            "select",
            g,
            options(*CALL_DISPOSITIONS.items()),
        ),
        _p("hs_call_duration", "Call duration", "number", "number", g),
        _p(
            "hs_call_status",
            "Call status",
            "enumeration",
            "select",
            g,
            options(*((s, _label(s)) for s in ("COMPLETED", "BUSY", "NO_ANSWER", "FAILED"))),
        ),
    ]


DEFAULT_GROUPS: dict[str, list[tuple[str, str]]] = {
    "contacts": [
        ("contactinformation", "Contact information"),
        ("analyticsinformation", "Web analytics history"),
        ("emailinformation", "Email information"),
        ("conversioninformation", "Conversion information"),
        ("sales_properties", "Sales properties"),
    ],
    "companies": [("companyinformation", "Company information")],
    "deals": [("dealinformation", "Deal information")],
    "meetings": [("meeting", "Meeting information")],
    "calls": [("call", "Call information")],
}

DEFAULT_PROPERTIES = {
    "contacts": contact_properties,
    "companies": company_properties,
    "deals": deal_properties,
    "meetings": meeting_properties,
    "calls": call_properties,
}

#: What the list, read and search endpoints return when no `properties` are asked for
#: (https://developers.hubspot.com/docs/api/crm/search, "default properties").
DEFAULT_RETURNED: dict[str, tuple[str, ...]] = {
    "contacts": (
        "createdate",
        "email",
        "firstname",
        "hs_object_id",
        "lastmodifieddate",
        "lastname",
    ),
    "companies": ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    "deals": (
        "amount",
        "closedate",
        "createdate",
        "dealname",
        "dealstage",
        "hs_lastmodifieddate",
        "hs_object_id",
        "pipeline",
    ),
    "meetings": ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
    "calls": ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
}

#: The property that carries the modification time of each object type.
MODIFIED_PROPERTY: dict[str, str] = {
    "contacts": "lastmodifieddate",
    "companies": "hs_lastmodifieddate",
    "deals": "hs_lastmodifieddate",
    "meetings": "hs_lastmodifieddate",
    "calls": "hs_lastmodifieddate",
}
CREATED_PROPERTY: dict[str, str] = {
    "contacts": "createdate",
    "companies": "createdate",
    "deals": "createdate",
    "meetings": "hs_createdate",
    "calls": "hs_createdate",
}
