"""Matching Leads to Accounts by email or website domain: normalisation and edge cases."""

from __future__ import annotations

import pytest

from scoring.domains import DomainIndex, DomainMatch, domain_of, match_people

ACCOUNTS = [
    ("001A", "https://www.Acme.COM/about"),
    ("001B", "globex.example"),
    ("001C", "http://shop.initech.example:8080/"),
    ("001D", "gmail.com"),  # a sole trader's account on a free-email domain: never indexed
    ("001E", "twin.example"),
    ("001F", "WWW.TWIN.EXAMPLE"),
    ("001G", None),
    ("001H", "not a website"),
]
INDEX = DomainIndex(ACCOUNTS)


@pytest.mark.parametrize(
    ("value", "domain"),
    [
        ("Jo@ACME.com", "acme.com"),
        ("https://www.Acme.COM/about?x=1#top", "acme.com"),
        ("http://acme.com:8080", "acme.com"),
        ("jo@www.acme.com", "acme.com"),
        ("jo@acme.com.", "acme.com"),
        ("localhost", None),
        ("not an email", None),
        ("", None),
        (None, None),
        (12, None),
    ],
)
def test_domain_of_normalises(value, domain):
    assert domain_of(value) == domain


@pytest.mark.parametrize(
    ("email", "website", "expected"),
    [
        ("jo@acme.com", None, DomainMatch("001A", "acme.com", "email domain acme.com")),
        ("Jo@WWW.ACME.COM", None, DomainMatch("001A", "acme.com", "email domain acme.com")),
        (
            "jo@eu.sales.acme.com",
            None,
            DomainMatch("001A", "acme.com", "email domain acme.com (parent of eu.sales.acme.com)"),
        ),
        # an account on a subdomain does not take people from the parent domain
        (
            "jo@initech.example",
            None,
            DomainMatch(None, None, "not matched: no account on email domain initech.example"),
        ),
        (
            "jo@shop.initech.example",
            None,
            DomainMatch("001C", "shop.initech.example", "email domain shop.initech.example"),
        ),
        # free-email addresses never match, the website still may
        (
            "jo@gmail.com",
            None,
            DomainMatch(None, None, "not matched: email domain gmail.com is a free-email domain"),
        ),
        (
            "jo@GMAIL.com",
            "https://globex.example/team",
            DomainMatch("001B", "globex.example", "website domain globex.example"),
        ),
        (
            "jo@mail.yahoo.com",
            None,
            DomainMatch(
                None, None, "not matched: email domain mail.yahoo.com is a free-email domain"
            ),
        ),
        # the email domain wins over the website
        ("jo@acme.com", "globex.example", DomainMatch("001A", "acme.com", "email domain acme.com")),
        # duplicates are reported, not guessed between
        (
            "jo@twin.example",
            None,
            DomainMatch(None, None, "not matched: 2 accounts share twin.example (001E, 001F)"),
        ),
        (
            "jo@nowhere.example",
            "www.nowhere.example",
            DomainMatch(
                None,
                None,
                "not matched: no account on email domain nowhere.example; "
                "no account on website domain nowhere.example",
            ),
        ),
        (None, "", DomainMatch(None, None, "not matched: no email or website domain")),
        ("jo@com", None, DomainMatch(None, None, "not matched: no email or website domain")),
    ],
)
def test_match(email, website, expected):
    assert INDEX.match(email, website) == expected


def test_free_email_accounts_are_not_indexed_and_custom_lists_apply():
    assert INDEX.accounts_on("gmail.com") == ()
    assert INDEX.accounts_on("twin.example") == ("001E", "001F")
    custom = DomainIndex(ACCOUNTS, free_email=frozenset({"acme.com"}))
    assert custom.match("jo@acme.com").account_id is None
    assert custom.match("jo@gmail.com").account_id == "001D"


def test_match_people():
    people = [("00Q1", "a@acme.com", None), ("00Q2", "b@gmail.com", None)]
    matches = match_people(people, INDEX)
    assert {k: v.account_id for k, v in matches.items()} == {"00Q1": "001A", "00Q2": None}
