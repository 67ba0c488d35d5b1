"""Direct setup of leadsync's output fields in the sandbox org (demo and benchmark fixtures).

The connector creates these through the Tooling API (`ensure_schema`); this shortcut gives demos
and benchmarks an org that is already set up, without spending API calls.
"""

from __future__ import annotations

from typing import Any

from sandbox.salesforce.schema import custom_field, tooling_form
from sandbox.salesforce.store import Store

GRADES = ("A", "B", "C", "D")
LABELS = tuple(f"{g}{t}" for g in GRADES for t in ("1", "2", "3"))

#: API name -> Tooling `Metadata` of each leadsync output field.
LEADSYNC_FIELDS: dict[str, dict[str, Any]] = {
    "Leadsync_Fit__c": {"label": "Fit score", "type": "Number", "precision": 5, "scale": 0},
    "Leadsync_Interest__c": {
        "label": "Interest score",
        "type": "Number",
        "precision": 5,
        "scale": 0,
    },
    "Leadsync_Score__c": {"label": "Lead score", "type": "Number", "precision": 5, "scale": 0},
    "Leadsync_Grade__c": {
        "label": "Fit grade",
        "type": "Picklist",
        "valueSet": {
            "restricted": True,
            "valueSetDefinition": {
                "sorted": False,
                "value": [{"valueName": g, "label": g, "default": False} for g in GRADES],
            },
        },
    },
    "Leadsync_Label__c": {
        "label": "Priority label",
        "type": "Picklist",
        "valueSet": {
            "restricted": True,
            "valueSetDefinition": {
                "sorted": False,
                "value": [{"valueName": v, "label": v, "default": False} for v in LABELS],
            },
        },
    },
    "Leadsync_Qualified__c": {
        "label": "Qualified (MQL)",
        "type": "Checkbox",
        "defaultValue": "false",
    },
    "Leadsync_Reasons__c": {
        "label": "Score reasons",
        "type": "LongTextArea",
        "length": 32768,
        "visibleLines": 5,
    },
    "Leadsync_Changes__c": {
        "label": "Score changes",
        "type": "LongTextArea",
        "length": 32768,
        "visibleLines": 3,
    },
    "Leadsync_Scored_At__c": {"label": "Scored at", "type": "DateTime"},
    "Leadsync_Model_Version__c": {"label": "Model version", "type": "Text", "length": 255},
}


def install_leadsync_fields(store: Store, *, grant: bool = True) -> list[str]:
    """Add the output fields to Lead and Contact; with `grant`, give the integration user access."""
    user = store.integration_user
    with store.lock:
        now = store.now()
        stamps = {
            "CreatedDate": now,
            "CreatedById": user,
            "LastModifiedDate": now,
            "LastModifiedById": user,
            "SystemModstamp": now,
        }
        permission_set = None
        if grant:
            permission_set = store.load(
                "PermissionSet",
                {
                    "Name": "Leadsync_Integration",
                    "Label": "Leadsync Integration",
                    "Description": None,
                    "IsOwnedByProfile": False,
                    **stamps,
                },
            )
            store.load(
                "PermissionSetAssignment",
                {"AssigneeId": user, "PermissionSetId": permission_set, **stamps},
            )
        for object_name in ("Lead", "Contact"):
            obj = store.sobject(object_name)
            assert obj is not None
            for api_name, metadata in LEADSYNC_FIELDS.items():
                if obj.field(api_name) is None:
                    obj.add(custom_field(object_name, api_name, metadata))
                    field_id = store.load(
                        "CustomField",
                        {
                            "DeveloperName": api_name[:-3],
                            "TableEnumOrId": object_name,
                            "NamespacePrefix": None,
                            **stamps,
                        },
                    )
                    store.custom_metadata[field_id] = tooling_form(metadata)
                if permission_set:
                    store.load(
                        "FieldPermissions",
                        {
                            "ParentId": permission_set,
                            "SobjectType": object_name,
                            "Field": f"{object_name}.{api_name}",
                            "PermissionsRead": True,
                            "PermissionsEdit": True,
                            **stamps,
                        },
                    )
    return list(LEADSYNC_FIELDS)
