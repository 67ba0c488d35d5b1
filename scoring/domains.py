"""Match people without an account link (Salesforce Leads) to accounts by domain (pure).

The rule, in order:

1. A domain is read from an email address or a website (`scoring.coerce.to_domain`): lower
   case, scheme, path, port and a leading `www.` dropped (`https://WWW.Acme.com/x` -> `acme.com`).
2. Accounts are indexed by their website's domain. An account whose website is a free-email
   domain is never indexed.
3. A person's email domain is tried first, then their website's. A domain matches an account on
   that domain or, walking up one label at a time, on a parent domain (`jo@eu.acme.com` matches
   `acme.com`), up to the domain its owner registered and never past it: not to a public
   suffix of the Public Suffix List (`com`, `co.uk`, `com.au`, `github.io`), so `jo@acme.co.uk`
   never looks for an account on `co.uk`. A domain that is itself a public suffix matches
   nothing, and an account whose website is one is not indexed (it would take every person on
   that suffix). An account on a subdomain (`shop.acme.com`) does not take people from the
   parent domain (`jo@acme.com`).
4. Free-email domains (and their subdomains) never match: `jo@gmail.com` says nothing about
   where Jo works.
5. When several accounts share the matching domain, the person is not matched (duplicates are
   reported, not guessed between).

`DomainMatch.why` says which step decided, for `explain`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from publicsuffixlist import PublicSuffixList

from scoring.coerce import to_domain

#: Consumer mailbox providers: an address there never ties a person to an account.
FREE_EMAIL_DOMAINS: frozenset[str] = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "ymail.com",
        "outlook.com",
        "hotmail.com",
        "hotmail.co.uk",
        "live.com",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.com",
        "proton.me",
        "protonmail.com",
        "zoho.com",
        "yandex.com",
        "yandex.ru",
        "mail.ru",
        "qq.com",
        "163.com",
        "126.com",
        "fastmail.com",
        "hey.com",
        "tutanota.com",
        "orange.fr",
        "free.fr",
        "t-online.de",
        "comcast.net",
        "verizon.net",
        "att.net",
    }
)


@dataclass(frozen=True, slots=True)
class DomainMatch:
    """The account a person was matched to (None: unmatched), on which domain, and why."""

    account_id: str | None
    domain: str | None
    why: str


def domain_of(value: object) -> str | None:
    """The normalised domain of an email address or website, None when it has none."""
    domain = to_domain(value)
    if domain is None or "." not in domain or " " in domain:
        return None
    return domain


@cache
def _public_suffixes() -> PublicSuffixList:
    # The list bundled with the package (ICANN and private sections), read once: no download.
    return PublicSuffixList()


def registered_domain(domain: str) -> str | None:
    """The domain its owner registered: one label under its public suffix (`eu.acme.co.uk` ->
    `acme.co.uk`, `x.github.io` -> `x.github.io`); None when `domain` is itself a public
    suffix (`co.uk`). A top-level domain the list does not know counts as a public suffix."""
    return _public_suffixes().privatesuffix(domain)


def parent_domains(domain: str) -> list[str]:
    """`eu.acme.co.uk` -> [`eu.acme.co.uk`, `acme.co.uk`]: `domain` and its parents up to the
    registered domain, never a public suffix; [] for a public suffix."""
    registered = registered_domain(domain)
    if registered is None:
        return []
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - registered.count("."))]


class DomainIndex:
    """Accounts by website domain; `match` finds a person's account."""

    def __init__(
        self,
        websites: Iterable[tuple[str, object]],
        free_email: frozenset[str] = FREE_EMAIL_DOMAINS,
    ) -> None:
        self.free_email = free_email
        self._accounts: dict[str, list[str]] = {}
        for account_id, website in websites:
            domain = domain_of(website)
            if domain is None or not self.usable(domain):
                continue
            self._accounts.setdefault(domain, []).append(str(account_id))

    def usable(self, domain: str) -> bool:
        """Whether `domain` may tie a person to an account: neither a public suffix nor a
        free-email domain or a subdomain of one."""
        parents = parent_domains(domain)
        return bool(parents) and not self._free(parents)

    def _free(self, parents: Iterable[str]) -> bool:
        return any(parent in self.free_email for parent in parents)

    def accounts_on(self, domain: str) -> tuple[str, ...]:
        """The ids of the accounts indexed under exactly `domain`."""
        return tuple(self._accounts.get(domain, ()))

    def match(self, email: object, website: object = None) -> DomainMatch:
        """The account of a person with this email address and website (email first)."""
        notes: list[str] = []
        for field, value in (("email", email), ("website", website)):
            domain = domain_of(value)
            if domain is None:
                continue
            candidates = parent_domains(domain)
            if self._free(candidates):
                notes.append(f"{field} domain {domain} is a free-email domain")
                continue
            if not candidates:
                notes.append(f"{field} domain {domain} is a public suffix, no one's own domain")
                continue
            for candidate in candidates:
                ids = self._accounts.get(candidate)
                if not ids:
                    continue
                if len(ids) > 1:
                    shown = ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else "")
                    notes.append(f"{len(ids)} accounts share {candidate} ({shown})")
                    break
                how = "" if candidate == domain else f" (parent of {domain})"
                return DomainMatch(ids[0], candidate, f"{field} domain {candidate}{how}")
            else:
                notes.append(f"no account on {field} domain {domain}")
        if not notes:
            notes.append("no email or website domain")
        return DomainMatch(None, None, "not matched: " + "; ".join(notes))


def match_people(
    people: Iterable[tuple[str, object, object]], index: DomainIndex
) -> Mapping[str, DomainMatch]:
    """`match` for many people given as (id, email, website)."""
    return {person_id: index.match(email, website) for person_id, email, website in people}
