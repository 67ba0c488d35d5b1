"""What the tests of roll-ups reading a prefixed people model share: a product-B people model
and a product-B account model whose score roll-up reads it (`model: pl_b`)."""

from __future__ import annotations

from pathlib import Path

#: A product-B contact model (HubSpot): seniority and recent visits, unlike the example's.
HUBSPOT_CONTACTS_B = """\
name: product-b-contacts
object: contact
fit:
  rules:
    - name: Senior
      if: {jobtitle: {matches: '\\b(vp|vice president|chief|head of|director)\\b'}}
      points: 70
    - {name: Known, if: {email: {exists: true}}, points: 10}
interest:
  rules:
    - name: Recent visit
      property: hs_analytics_last_visit_timestamp
      recency: [{within_days: 7, points: 60}]
"""

#: A product-B company model: its only roll-up is the product-B contacts' highest score.
HUBSPOT_COMPANIES_B = """\
name: product-b-companies
object: company
fit:
  rules:
    - {name: Big, if: {numberofemployees: {gte: 100}}, points: 50}
members:
  rollup:
    - {name: B people, score: score, model: pl_b, aggregate: max}
"""


def write(folder: Path, name: str, text: str) -> Path:
    """`folder/name` holding `text`."""
    path = folder / name
    path.write_text(text)
    return path


#: A product-B Account model: its only roll-up is the product-B contacts' highest score.
SALESFORCE_ACCOUNTS_B = """\
name: product-b-accounts
object: account
fit:
  rules:
    - {name: Big, if: {NumberOfEmployees: {gte: 100}}, points: 50}
members:
  rollup:
    - {name: B people, score: score, model: pl_b, aggregate: max}
"""
