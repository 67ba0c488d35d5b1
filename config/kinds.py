"""Which record kinds leadsync scores, and in which CRM: the one answer every check gives.

The configuration accepts an object only when its CRM scores the kind (`CRM_KINDS`), and a
model file (`validate --model`, `schema`) only when some CRM does (`SCORED_KINDS`). A kind that
no connector scores is refused by both with the same words. Scoring a new kind is one edit
here.
"""

from __future__ import annotations

__all__ = ["CRM_KINDS", "SCORED_KINDS", "unscored_reason"]

CRM_KINDS: dict[str, tuple[str, ...]] = {
    "hubspot": ("contact", "company"),
    "salesforce": ("lead", "contact", "account"),
}
SCORED_KINDS: tuple[str, ...] = tuple(
    dict.fromkeys(kind for kinds in CRM_KINDS.values() for kind in kinds)
)


def unscored_reason(kind: str, crm: str | None = None) -> str | None:
    """Why `kind` cannot be scored (in `crm`, or anywhere), or None when it can."""
    allowed = CRM_KINDS[crm] if crm else SCORED_KINDS
    if kind in allowed:
        return None
    return f"{crm or 'leadsync'} cannot score kind {kind!r}; valid: {', '.join(allowed)}"
