"""Field and object definitions of the sandbox org, and their `describe` JSON.

Field names are matched case-insensitively, as SOQL and the REST API do. Types use the names of
the describe result (`string`, `picklist`, `double`, `int`, `currency`, `boolean`, `date`,
`datetime`, `reference`, `id`, `email`, `phone`, `url`, `textarea`). Custom fields added through
the Tooling API join an object's definition at run time (`SObjectDef.add`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sandbox.salesforce.ids import KEY_PREFIXES

INDUSTRIES: tuple[str, ...] = (
    "Agriculture",
    "Apparel",
    "Banking",
    "Biotechnology",
    "Chemicals",
    "Communications",
    "Construction",
    "Consulting",
    "Education",
    "Electronics",
    "Energy",
    "Engineering",
    "Entertainment",
    "Environmental",
    "Finance",
    "Food & Beverage",
    "Government",
    "Healthcare",
    "Hospitality",
    "Insurance",
    "Machinery",
    "Manufacturing",
    "Media",
    "Not For Profit",
    "Other",
    "Recreation",
    "Retail",
    "Shipping",
    "Technology",
    "Telecommunications",
    "Transportation",
    "Utilities",
)
LEAD_SOURCES: tuple[str, ...] = (
    "Web",
    "Phone Inquiry",
    "Partner Referral",
    "Purchased List",
    "Other",
)
LEAD_STATUSES: tuple[str, ...] = (
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
)
RATINGS: tuple[str, ...] = ("Hot", "Warm", "Cold")
TASK_SUBTYPES: tuple[str, ...] = ("Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn")
ACTIVITY_TYPES: tuple[str, ...] = ("Call", "Email", "Meeting", "Other")
MEMBER_STATUSES: tuple[str, ...] = ("Sent", "Responded", "Registered", "Attended")
EMAIL_RELATION_TYPES: tuple[str, ...] = ("FromAddress", "ToAddress", "CcAddress", "BccAddress")
STAGES: tuple[str, ...] = ("Prospecting", "Qualification", "Proposal", "Closed Won", "Closed Lost")
#: `OpportunityContactRole.Role` values (the default picklist of an org).
CONTACT_ROLES: tuple[str, ...] = (
    "Business User",
    "Decision Maker",
    "Economic Buyer",
    "Economic Decision Maker",
    "Evaluator",
    "Executive Sponsor",
    "Influencer",
    "Technical Buyer",
    "Other",
)
LIST_EMAIL_STATUSES: tuple[str, ...] = ("Draft", "Scheduled", "Sent")
LIST_EMAIL_RESULTS: tuple[str, ...] = ("Sent", "Failed")
#: API version from which `ListEmailSentResult` is served (its field reference: "available in API
#: version 67.0 and later").
LIST_EMAIL_RESULT_VERSION = 67.0
#: The engagement fields of `ListEmailSentResult` that Salesforce's field reference lists and
#: describe-generated schemas of 67.0 orgs lack: served only while the org's feature is on.
LIST_EMAIL_ENGAGEMENT_FIELDS: tuple[str, ...] = (
    "FirstOpenedDate",
    "IsOpened",
    "FirstClickedDate",
    "LastClickedDate",
    "IsClicked",
    "HasReply",
    "IsOpenTracked",
    "IsLinkTracked",
)


@dataclass
class FieldDef:
    """One field as `describe` reports it."""

    name: str
    type: str
    label: str = ""
    length: int = 0
    precision: int = 0
    scale: int = 0
    picklist: tuple[str, ...] = ()
    restricted: bool = False
    updateable: bool = True
    nillable: bool = True
    custom: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    polymorphic: bool = False

    def to_json(self) -> dict[str, Any]:
        """The field's entry in `describe().fields`."""
        byte_length = self.length * 3 if self.type in _TEXT_TYPES else 0
        return {
            "name": self.name,
            "label": self.label or self.name,
            "type": self.type,
            "soapType": _SOAP_TYPES.get(self.type, "xsd:string"),
            "length": self.length,
            "byteLength": byte_length,
            "precision": self.precision,
            "scale": self.scale,
            "digits": 9 if self.type == "int" else 0,
            "custom": self.custom,
            "nillable": self.nillable,
            "createable": self.updateable,
            "updateable": self.updateable,
            "filterable": self.type != "textarea",
            "sortable": self.type != "textarea",
            "calculated": False,
            "unique": False,
            "externalId": False,
            "idLookup": self.name == "Id",
            "restrictedPicklist": self.restricted,
            "picklistValues": [
                {"active": True, "defaultValue": False, "label": v, "validFor": None, "value": v}
                for v in self.picklist
            ],
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "polymorphicForeignKey": self.polymorphic,
            "namePointing": self.polymorphic,
            "extraTypeInfo": "plaintextarea" if self.type == "textarea" else None,
        }


_TEXT_TYPES = {"string", "textarea", "picklist", "email", "phone", "url", "id", "reference"}
_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "int": "xsd:int",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
}


@dataclass(frozen=True)
class ChildRelationship:
    """A parent-to-child relationship usable in a subquery (`Tasks`, `CampaignMembers`...)."""

    name: str
    child: str
    field: str


@dataclass
class SObjectDef:
    """One object: its fields (by lower-case name) and its child relationships."""

    name: str
    label: str
    fields: dict[str, FieldDef] = field(default_factory=dict)
    children: dict[str, ChildRelationship] = field(default_factory=dict)
    queryable: bool = True
    #: the first API version serving the object (describe, global describe, SOQL)
    since: float = 0.0

    def served_at(self, version: str) -> bool:
        """Whether the object exists at API `version` (`"62.0"`)."""
        return float(version) >= self.since

    @property
    def key_prefix(self) -> str:
        """The 3-character id prefix of the object."""
        return KEY_PREFIXES[self.name]

    def add(self, definition: FieldDef) -> None:
        """Add (or replace) a field."""
        self.fields[definition.name.lower()] = definition

    def field(self, name: str) -> FieldDef | None:
        """A field by name, case-insensitively."""
        return self.fields.get(name.lower())

    def relationship(self, name: str) -> FieldDef | None:
        """The reference field behind a parent relationship name (`Account`, `Who`), if any."""
        lower = name.lower()
        for definition in self.fields.values():
            if definition.relationship_name and definition.relationship_name.lower() == lower:
                return definition
        return None

    def describe(
        self, visible: Iterable[FieldDef], children: Iterable[ChildRelationship] | None = None
    ) -> dict[str, Any]:
        """The `sobjects/{name}/describe` body listing `visible` fields (and `children`, by
        default every child relationship)."""
        prefix = "/services/data/v{version}/sobjects/" + self.name
        return {
            "name": self.name,
            "label": self.label,
            "labelPlural": self.label + "s",
            "keyPrefix": self.key_prefix,
            "custom": False,
            "createable": True,
            "updateable": True,
            "deletable": True,
            "queryable": self.queryable,
            "retrieveable": True,
            "searchable": True,
            "fields": [f.to_json() for f in visible],
            "childRelationships": [
                {
                    "childSObject": rel.child,
                    "field": rel.field,
                    "relationshipName": rel.name,
                    "cascadeDelete": False,
                    "deprecatedAndHidden": False,
                }
                for rel in (self.children.values() if children is None else children)
            ],
            "urls": {
                "sobject": prefix,
                "describe": prefix + "/describe",
                "rowTemplate": prefix + "/{ID}",
            },
        }


#: The fields of the `Name` object, what SOQL reads past a polymorphic relationship (a Lead's
#: `Owner`, a Task's `Who` / `What`), by lower-case name: (name, describe type) (Salesforce
#: Field Reference, "Name").
NAME_OBJECT_FIELDS: dict[str, tuple[str, str]] = {
    name.lower(): (name, type_)
    for name, type_ in (
        ("Alias", "string"),
        ("Email", "email"),
        ("FirstName", "string"),
        ("Id", "id"),
        ("IsActive", "boolean"),
        ("LastName", "string"),
        ("LastReferencedDate", "datetime"),
        ("LastViewedDate", "datetime"),
        ("Name", "string"),
        ("NameOrAlias", "string"),
        ("Phone", "phone"),
        ("ProfileId", "reference"),
        ("RecordTypeId", "reference"),
        ("Title", "string"),
        ("Type", "picklist"),
        ("UserRoleId", "reference"),
        ("Username", "string"),
    )
}


def _f(name: str, type_: str, **kwargs: Any) -> FieldDef:
    length = {"string": 255, "email": 80, "phone": 40, "url": 255, "picklist": 255, "id": 18}
    kwargs.setdefault("length", length.get(type_, 0))
    if type_ == "reference":
        kwargs.setdefault("length", 18)
    return FieldDef(name, type_, label=kwargs.pop("label", name), **kwargs)


def _ref(name: str, *targets: str, relationship: str, updateable: bool = True) -> FieldDef:
    return FieldDef(
        name,
        "reference",
        label=name,
        length=18,
        reference_to=targets,
        relationship_name=relationship,
        polymorphic=len(targets) > 1,
        updateable=updateable,
    )


#: Account Engagement (Pardot) fields its managed package adds to Lead and Contact.
ACCOUNT_ENGAGEMENT_FIELDS: tuple[FieldDef, ...] = (
    FieldDef("pi__score__c", "double", label="Score", precision=18, custom=True),
    FieldDef("pi__grade__c", "string", label="Grade", length=10, custom=True),
    FieldDef("pi__last_activity__c", "datetime", label="Last Activity", custom=True),
    FieldDef("pi__first_activity__c", "datetime", label="First Activity", custom=True),
)


def _audit() -> list[FieldDef]:
    return [
        _f("Id", "id", updateable=False, nillable=False),
        _f("IsDeleted", "boolean", updateable=False, nillable=False),
        _f("CreatedDate", "datetime", updateable=False, nillable=False),
        _ref("CreatedById", "User", relationship="CreatedBy", updateable=False),
        _f("LastModifiedDate", "datetime", updateable=False, nillable=False),
        _ref("LastModifiedById", "User", relationship="LastModifiedBy", updateable=False),
        _f("SystemModstamp", "datetime", updateable=False, nillable=False),
    ]


def _object(
    name: str, label: str, fields: list[FieldDef], **children: tuple[str, str]
) -> SObjectDef:
    obj = SObjectDef(name, label)
    for definition in _audit() + fields:
        obj.add(definition)
    for rel_name, (child, child_field) in children.items():
        obj.children[rel_name.lower()] = ChildRelationship(rel_name, child, child_field)
    return obj


#: Fields with field history tracking on in this org, per object, and the history object their
#: changes go to with the field naming the record and each field's `DataType` (`EntityId`: a
#: lookup, whose change adds two rows, `history_rows`).
TRACKED_FIELDS: dict[str, tuple[str, str, dict[str, str]]] = {
    "Lead": ("LeadHistory", "LeadId", {"Status": "DynamicEnum"}),
    "Contact": ("ContactHistory", "ContactId", {"Title": "Text", "AccountId": "EntityId"}),
    "Account": ("AccountHistory", "AccountId", {"Type": "DynamicEnum"}),
}


def _history(name: str, label: str, parent_field: str, parent: str) -> SObjectDef:
    """A field history object (`LeadHistory`): one row per change of a tracked field.

    History objects carry no LastModified or SystemModstamp fields; `OldValue` and `NewValue`
    are anyType in Salesforce, served here as text.
    """
    obj = SObjectDef(name, label)
    for definition in (
        _f("Id", "id", updateable=False, nillable=False),
        _f("IsDeleted", "boolean", updateable=False, nillable=False),
        _f("CreatedDate", "datetime", updateable=False, nillable=False),
        _ref("CreatedById", "User", relationship="CreatedBy", updateable=False),
        _ref(parent_field, parent, relationship=parent, updateable=False),
        _f("Field", "picklist", updateable=False, nillable=False),
        _f("DataType", "picklist", updateable=False),
        _f("OldValue", "string", updateable=False),
        _f("NewValue", "string", updateable=False),
    ):
        obj.add(definition)
    return obj


def standard_objects() -> dict[str, SObjectDef]:
    """Fresh definitions of every object the sandbox serves, by lower-case name."""
    person = [
        _f("FirstName", "string", length=40),
        _f("LastName", "string", length=80, nillable=False),
        _f("Name", "string", length=121, updateable=False),
        _f("Email", "email"),
        _f("Phone", "phone"),
        _f("Title", "string", length=128),
        _f("LeadSource", "picklist", picklist=LEAD_SOURCES),
        _f("HasOptedOutOfEmail", "boolean", nillable=False),
        _ref("OwnerId", "User", "Group", relationship="Owner"),
        _f("LastActivityDate", "date", updateable=False),
        _f("Description", "textarea", length=32000),
        *ACCOUNT_ENGAGEMENT_FIELDS,
    ]
    objects = [
        _object(
            "Lead",
            "Lead",
            [
                *person,
                _f("Company", "string", nillable=False),
                _f("Industry", "picklist", picklist=INDUSTRIES),
                _f("NumberOfEmployees", "int", precision=8),
                _f("AnnualRevenue", "currency", precision=18),
                _f("Country", "string", length=80),
                _f("State", "string", length=80),
                _f("City", "string", length=40),
                _f("Website", "url"),
                _f("Status", "picklist", picklist=LEAD_STATUSES, nillable=False),
                _f("Rating", "picklist", picklist=RATINGS),
                _f("IsConverted", "boolean", updateable=False, nillable=False),
                _f("ConvertedDate", "date", updateable=False),
                _ref(
                    "ConvertedAccountId",
                    "Account",
                    relationship="ConvertedAccount",
                    updateable=False,
                ),
                _ref(
                    "ConvertedContactId",
                    "Contact",
                    relationship="ConvertedContact",
                    updateable=False,
                ),
                _ref(
                    "ConvertedOpportunityId",
                    "Opportunity",
                    relationship="ConvertedOpportunity",
                    updateable=False,
                ),
            ],
            Tasks=("Task", "WhoId"),
            Events=("Event", "WhoId"),
            CampaignMembers=("CampaignMember", "LeadId"),
            EmailStatuses=("EmailStatus", "WhoId"),
            ListEmailRecipients=("ListEmailSentResult", "RecipientId"),
        ),
        _object(
            "Contact",
            "Contact",
            [
                *person,
                _ref("AccountId", "Account", relationship="Account"),
                _f("Department", "string", length=80),
                _f("MailingCountry", "string", length=80),
                _f("MailingCity", "string", length=40),
            ],
            Tasks=("Task", "WhoId"),
            Events=("Event", "WhoId"),
            CampaignMembers=("CampaignMember", "ContactId"),
            EmailStatuses=("EmailStatus", "WhoId"),
            ListEmailRecipients=("ListEmailSentResult", "RecipientId"),
            OpportunityContactRoles=("OpportunityContactRole", "ContactId"),
        ),
        _object(
            "Account",
            "Account",
            [
                _f("Name", "string", nillable=False),
                _f("Industry", "picklist", picklist=INDUSTRIES),
                _f("NumberOfEmployees", "int", precision=8),
                _f("AnnualRevenue", "currency", precision=18),
                _f("BillingCountry", "string", length=80),
                _f("Website", "url"),
                _f(
                    "Type",
                    "picklist",
                    picklist=("Prospect", "Customer - Direct", "Partner", "Other"),
                ),
                _ref("OwnerId", "User", relationship="Owner"),
            ],
            Contacts=("Contact", "AccountId"),
            Opportunities=("Opportunity", "AccountId"),
        ),
        _object(
            "Opportunity",
            "Opportunity",
            [
                _f("Name", "string", length=120, nillable=False),
                _ref("AccountId", "Account", relationship="Account"),
                _f("StageName", "picklist", picklist=STAGES, nillable=False),
                _f("IsWon", "boolean", updateable=False, nillable=False),
                _f("IsClosed", "boolean", updateable=False, nillable=False),
                _f("Amount", "currency", precision=18),
                _f("CloseDate", "date", nillable=False),
            ],
            OpportunityContactRoles=("OpportunityContactRole", "OpportunityId"),
        ),
        _object(
            "OpportunityContactRole",
            "Opportunity Contact Role",
            [
                _ref("OpportunityId", "Opportunity", relationship="Opportunity"),
                _ref("ContactId", "Contact", relationship="Contact"),
                _f("Role", "picklist", picklist=CONTACT_ROLES),
                _f("IsPrimary", "boolean", nillable=False),
            ],
        ),
        _object(
            "Task",
            "Task",
            [
                _ref("WhoId", "Contact", "Lead", relationship="Who"),
                _ref("WhatId", "Account", "Opportunity", "Campaign", relationship="What"),
                _f("Subject", "string"),
                _f("TaskSubtype", "picklist", picklist=TASK_SUBTYPES),
                _f("Type", "picklist", picklist=ACTIVITY_TYPES),
                _f("Status", "picklist", picklist=("Not Started", "In Progress", "Completed")),
                _f("ActivityDate", "date"),
                _f("CompletedDateTime", "datetime", updateable=False),
                _f("CallDurationInSeconds", "int", precision=8),
                _f("CallDisposition", "string"),
                _ref("OwnerId", "User", relationship="Owner"),
            ],
        ),
        _object(
            "Event",
            "Event",
            [
                _ref("WhoId", "Contact", "Lead", relationship="Who"),
                _ref("WhatId", "Account", "Opportunity", "Campaign", relationship="What"),
                _f("Subject", "string"),
                _f("Type", "picklist", picklist=ACTIVITY_TYPES),
                _f("EventSubtype", "picklist", picklist=("Event",)),
                _f("StartDateTime", "datetime"),
                _f("EndDateTime", "datetime"),
                _f("ActivityDateTime", "datetime"),
                _f("DurationInMinutes", "int", precision=8),
                _ref("OwnerId", "User", relationship="Owner"),
            ],
        ),
        _object(
            "EmailMessage",
            "Email Message",
            [
                _f("Subject", "string", length=3000),
                _f("MessageDate", "datetime"),
                _f("Incoming", "boolean", nillable=False),
                _f("FromAddress", "email", length=1000),
                _f("ToAddress", "string", length=4000),
                _f("IsTracked", "boolean", nillable=False),
                _f("IsBounced", "boolean", nillable=False),
                _f("FirstOpenedDate", "datetime", updateable=False),
                _f("LastOpenedDate", "datetime", updateable=False),
                _f("FirstLinkClickedDate", "datetime", updateable=False),
                _f("HasReply", "boolean", updateable=False, nillable=False),
                _ref("ReplyToEmailMessageId", "EmailMessage", relationship="ReplyToEmailMessage"),
                _ref("ActivityId", "Task", relationship="Activity"),
            ],
        ),
        _object(
            "EmailMessageRelation",
            "Email Message Relation",
            [
                _ref("EmailMessageId", "EmailMessage", relationship="EmailMessage"),
                _ref("RelationId", "Contact", "Lead", "User", relationship="Relation"),
                _f("RelationObjectType", "string", length=50, updateable=False),
                _f("RelationType", "picklist", picklist=EMAIL_RELATION_TYPES),
                _f("RelationAddress", "string", length=255),
            ],
        ),
        _object(
            "EmailStatus",
            "Email Status",
            [
                _ref("WhoId", "Contact", "Lead", relationship="Who", updateable=False),
                _ref("TaskId", "Task", relationship="Task", updateable=False),
                _f("EmailTemplateName", "string", length=80, updateable=False),
                _f("TimesOpened", "int", precision=9, updateable=False, nillable=False),
                _f("FirstOpenDate", "datetime", updateable=False),
                _f("LastOpenDate", "datetime", updateable=False),
            ],
        ),
        _object(
            "ListEmail",
            "List Email",
            [
                _f("Name", "string", nillable=False),
                _f("Subject", "textarea", length=255),
                _f("Status", "picklist", picklist=LIST_EMAIL_STATUSES, nillable=False),
                _f("ScheduledDate", "datetime"),
                _f("TotalSent", "int", precision=9, updateable=False),
                _f("IsTracked", "boolean", updateable=False, nillable=False),
                _ref("CampaignId", "Campaign", relationship="Campaign"),
            ],
        ),
        _object(
            "ListEmailSentResult",
            "List Email Sent Result",
            [
                _f("Name", "string", nillable=False),
                _ref("ListEmailId", "ListEmail", relationship="ListEmail", updateable=False),
                _ref("RecipientId", "Contact", "Lead", relationship="Recipient"),
                _f("EmailAddress", "textarea", length=320),
                _f("Result", "picklist", picklist=LIST_EMAIL_RESULTS, nillable=False),
                _f("Reason", "picklist", picklist=("Bounced", "Blocked")),
                _ref("ActivityId", "Task", relationship="Activity", updateable=False),
                _f("Headers", "textarea", length=32000),
                _f("ThreadIdentifier", "string"),
                _f("MessageIdentifier", "string"),
                _f("FirstOpenedDate", "datetime", updateable=False),
                _f("IsOpened", "boolean", updateable=False, nillable=False),
                _f("FirstClickedDate", "datetime", updateable=False),
                _f("LastClickedDate", "datetime", updateable=False),
                _f("IsClicked", "boolean", updateable=False, nillable=False),
                _f("HasReply", "boolean", updateable=False, nillable=False),
                _f("IsOpenTracked", "boolean", updateable=False, nillable=False),
                _f("IsLinkTracked", "boolean", updateable=False, nillable=False),
            ],
        ),
        _object(
            "Campaign",
            "Campaign",
            [
                _f("Name", "string", length=80, nillable=False),
                _f(
                    "Type", "picklist", picklist=("Webinar", "Email", "Conference", "Advertisement")
                ),
                _f("Status", "picklist", picklist=("Planned", "In Progress", "Completed")),
                _f("IsActive", "boolean", nillable=False),
            ],
            CampaignMembers=("CampaignMember", "CampaignId"),
        ),
        _object(
            "CampaignMember",
            "Campaign Member",
            [
                _ref("CampaignId", "Campaign", relationship="Campaign"),
                _ref("LeadId", "Lead", relationship="Lead"),
                _ref("ContactId", "Contact", relationship="Contact"),
                _f("Status", "picklist", picklist=MEMBER_STATUSES),
                _f("HasResponded", "boolean", updateable=False, nillable=False),
                _f("FirstRespondedDate", "date", updateable=False),
            ],
        ),
        _history("LeadHistory", "Lead History", "LeadId", "Lead"),
        _history("ContactHistory", "Contact History", "ContactId", "Contact"),
        _history("AccountHistory", "Account History", "AccountId", "Account"),
        _object(
            "User",
            "User",
            [
                _f("Username", "string", length=80, nillable=False),
                _f("Name", "string", length=121, updateable=False),
                _f("FirstName", "string", length=40),
                _f("LastName", "string", length=80, nillable=False),
                _f("Alias", "string", length=8, nillable=False),
                _f("Email", "email"),
                _f("IsActive", "boolean", nillable=False),
            ],
        ),
        _object(
            "Group", "Group", [_f("Name", "string", length=40), _f("Type", "string", length=40)]
        ),
        _object(
            "PermissionSet",
            "Permission Set",
            [
                _f("Name", "string", length=80, nillable=False),
                _f("Label", "string", length=80, nillable=False),
                _f("Description", "string"),
                _f("IsOwnedByProfile", "boolean", updateable=False, nillable=False),
            ],
        ),
        _object(
            "FieldPermissions",
            "Field Permissions",
            [
                _ref("ParentId", "PermissionSet", relationship="Parent"),
                _f("SobjectType", "string", length=80, nillable=False),
                _f("Field", "string", length=255, nillable=False),
                _f("PermissionsRead", "boolean", nillable=False),
                _f("PermissionsEdit", "boolean", nillable=False),
            ],
        ),
        _object(
            "PermissionSetAssignment",
            "Permission Set Assignment",
            [
                _ref("AssigneeId", "User", relationship="Assignee"),
                _ref("PermissionSetId", "PermissionSet", relationship="PermissionSet"),
            ],
        ),
    ]
    by_name = {obj.name.lower(): obj for obj in objects}
    by_name["emailstatus"].queryable = False  # only as the EmailStatuses subquery
    by_name["listemail"].since = 41.0
    by_name["listemailsentresult"].since = LIST_EMAIL_RESULT_VERSION
    return by_name


def without_list_email_engagement(objects: dict[str, SObjectDef]) -> None:
    """Drop `ListEmailSentResult`'s engagement fields: the shape of the describe-generated
    schemas of 67.0 orgs, which lack them (`LIST_EMAIL_ENGAGEMENT_FIELDS`)."""
    result = objects["listemailsentresult"]
    for name in LIST_EMAIL_ENGAGEMENT_FIELDS:
        result.fields.pop(name.lower(), None)


def tooling_objects() -> dict[str, SObjectDef]:
    """Objects served by the Tooling API (`/tooling/query`), by lower-case name."""
    custom = _object(
        "CustomField",
        "Custom Field",
        [
            _f("DeveloperName", "string", length=40, updateable=False),
            _f("TableEnumOrId", "string", length=40, updateable=False),
            _f("NamespacePrefix", "string", length=15, updateable=False),
        ],
    )
    return {custom.name.lower(): custom}


def custom_field(object_name: str, api_name: str, metadata: dict[str, Any]) -> FieldDef:
    """The describe-side definition of a Tooling API `CustomField` from its `Metadata`."""
    kind = str(metadata.get("type") or "Text")
    label = str(metadata.get("label") or api_name)
    if kind == "Number":
        return FieldDef(
            api_name,
            "double",
            label=label,
            precision=int(metadata.get("precision") or 18),
            scale=int(metadata.get("scale") or 0),
            custom=True,
        )
    if kind == "Checkbox":
        return FieldDef(api_name, "boolean", label=label, nillable=False, custom=True)
    if kind == "DateTime":
        return FieldDef(api_name, "datetime", label=label, custom=True)
    if kind == "LongTextArea":
        return FieldDef(
            api_name,
            "textarea",
            label=label,
            length=int(metadata.get("length") or 32768),
            custom=True,
        )
    if kind == "Picklist":
        value_set = metadata.get("valueSet") or {}
        definition = value_set.get("valueSetDefinition") or {}
        values = tuple(str(v.get("valueName")) for v in definition.get("value") or [])
        return FieldDef(
            api_name,
            "picklist",
            label=label,
            length=255,
            picklist=values,
            restricted=bool(value_set.get("restricted")),
            custom=True,
        )
    return FieldDef(
        api_name, "string", label=label, length=int(metadata.get("length") or 255), custom=True
    )


def picklist_problem(metadata: dict[str, Any]) -> str | None:
    """Why a Tooling picklist `Metadata` cannot be saved, or None.

    The Tooling API names a picklist value `valueName` (the Metadata API's `fullName`).
    """
    value_set = metadata.get("valueSet") or {}
    definition = value_set.get("valueSetDefinition") or {}
    for index, value in enumerate(definition.get("value") or []):
        if not isinstance(value, dict) or not value.get("valueName"):
            return f"Metadata.valueSet.valueSetDefinition.value[{index}]: valueName is required"
    return None


def tooling_form(metadata: dict[str, Any]) -> dict[str, Any]:
    """`Metadata` as the Tooling API returns it: every picklist value with all its keys."""
    value_set = metadata.get("valueSet")
    if not isinstance(value_set, dict) or not value_set.get("valueSetDefinition"):
        return dict(metadata)
    definition = value_set["valueSetDefinition"]
    values = [
        {
            "color": value.get("color"),
            "default": bool(value.get("default")),
            "description": value.get("description"),
            "isActive": value.get("isActive"),
            "label": value.get("label") or value["valueName"],
            "urls": value.get("urls"),
            "valueName": value["valueName"],
        }
        for value in definition.get("value") or []
    ]
    return {
        **metadata,
        "valueSet": {**value_set, "valueSetDefinition": {**definition, "value": values}},
    }


#: Tooling `CustomField.Metadata.type` values the sandbox accepts.
CUSTOM_FIELD_TYPES = frozenset(
    {"Number", "Checkbox", "DateTime", "LongTextArea", "Picklist", "Text"}
)
