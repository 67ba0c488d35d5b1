"""Matching Leads to Accounts by email or website domain: normalisation and edge cases."""

from __future__ import annotations

import pytest

from scoring.domains import (
    DomainIndex,
    DomainMatch,
    domain_of,
    match_people,
    parent_domains,
    registered_domain,
)

ACCOUNTS = [
    ("001A", "https://www.Acme.COM/about"),
    ("001B", "globex.example"),
    ("001C", "http://shop.initech.example:8080/"),
    ("001D", "gmail.com"),  # a sole trader's account on a free-email domain: never indexed
    ("001E", "twin.example"),
    ("001F", "WWW.TWIN.EXAMPLE"),
    ("001G", None),
    ("001H", "not a website"),
    ("001I", "https://www.rockets.co.uk"),
    ("001J", "co.uk"),  # a bare public suffix: never indexed, it would take every UK address
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
        # parents stop at the registered domain: never `co.uk`
        (
            "jo@eu.rockets.co.uk",
            None,
            DomainMatch(
                "001I", "rockets.co.uk", "email domain rockets.co.uk (parent of eu.rockets.co.uk)"
            ),
        ),
        (
            "jo@globex.co.uk",
            None,
            DomainMatch(None, None, "not matched: no account on email domain globex.co.uk"),
        ),
        (
            "jo@co.uk",
            None,
            DomainMatch(
                None,
                None,
                "not matched: email domain co.uk is a public suffix, no one's own domain",
            ),
        ),
        (
            "jo@co.uk",
            "rockets.co.uk",
            DomainMatch("001I", "rockets.co.uk", "website domain rockets.co.uk"),
        ),
    ],
)
def test_match(email, website, expected):
    assert INDEX.match(email, website) == expected


def test_free_email_accounts_are_not_indexed_and_custom_lists_apply():
    assert INDEX.accounts_on("gmail.com") == ()
    assert INDEX.accounts_on("co.uk") == ()  # a public suffix: no one's own domain
    assert INDEX.accounts_on("twin.example") == ("001E", "001F")
    custom = DomainIndex(ACCOUNTS, free_email=frozenset({"acme.com"}))
    assert custom.match("jo@acme.com").account_id is None
    assert custom.match("jo@gmail.com").account_id == "001D"


def test_match_people():
    people = [("00Q1", "a@acme.com", None), ("00Q2", "b@gmail.com", None)]
    matches = match_people(people, INDEX)
    assert {k: v.account_id for k, v in matches.items()} == {"00Q1": "001A", "00Q2": None}


@pytest.mark.parametrize(
    ("domain", "registered", "parents"),
    [
        ("acme.com", "acme.com", ["acme.com"]),
        ("eu.sales.acme.com", "acme.com", ["eu.sales.acme.com", "sales.acme.com", "acme.com"]),
        ("eu.acme.co.uk", "acme.co.uk", ["eu.acme.co.uk", "acme.co.uk"]),
        ("shop.acme.com.au", "acme.com.au", ["shop.acme.com.au", "acme.com.au"]),
        # the list's private section: one customer's site on a shared host
        ("acme.github.io", "acme.github.io", ["acme.github.io"]),
        ("co.uk", None, []),
        ("github.io", None, []),
        # a top-level domain the list does not know is a suffix all the same
        ("eu.globex.example", "globex.example", ["eu.globex.example", "globex.example"]),
    ],
)
def test_parents_stop_at_the_registered_domain(domain, registered, parents):
    assert registered_domain(domain) == registered
    assert parent_domains(domain) == parents
