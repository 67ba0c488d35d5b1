"""Word lists and weights the Salesforce sandbox generator draws from."""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST = _words(
    """
    James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara
    Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony
    Betty Mark Sandra Steven Ashley Paul Emily Andrew Kimberly Joshua Donna Kevin Michelle
    Brian Carol George Amanda Timothy Melissa Ravi Priya Wei Mei Hiroshi Yuki Lukas Anna Jonas
    Sofia Mateo Lucia Omar Fatima Noah Chloe
    """
)
LAST = _words(
    """
    Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
    Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
    Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen
    Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Patel
    Kumar Chen Wang Tanaka Sato Muller Schmidt Rossi Silva
    """
)
COMPANY_A = _words(
    """
    Acme Globex Initech Umbrella Stark Wayne Wonka Soylent Hooli Vandelay Cyberdyne Tyrell
    Aperture Massive Dynamic Blue Sun Oscorp Pied Piper Gringotts Monarch Nakatomi Virtucon
    Prestige Northwind Contoso Fabrikam Tailspin Adventure Wingtip Litware Proseware Alpine
    Summit Vertex Quantum Nimbus Helix Orbit Apex Zenith Polar Crimson Emerald Granite
    """
)
COMPANY_B = _words(
    """
    Corp Inc Systems Labs Industries Holdings Group Technologies Solutions Partners Networks
    Analytics Logistics Health Capital Foods Energy Media Software Robotics
    """
)
FREE_MAIL = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com")
COUNTRIES = (
    (("United States", "USA", "US", "U.S.", "united states"), 0.42),
    (("United Kingdom", "UK", "England"), 0.12),
    (("Germany", "Deutschland", "DE"), 0.1),
    (("France",), 0.06),
    (("Canada", "CA"), 0.07),
    (("India",), 0.08),
    (("Australia", "AU"), 0.05),
    (("Brazil", "Brasil"), 0.04),
    (("Japan",), 0.04),
    (("Spain", "España"), 0.02),
)
#: (titles, seniority 0..1, weight)
TITLES = (
    (("CEO", "Chief Executive Officer", "Founder & CEO", "Co-Founder"), 1.0, 0.04),
    (
        ("CTO", "Chief Technology Officer", "CIO", "CMO", "Chief Marketing Officer", "CFO"),
        0.95,
        0.05,
    ),
    (("VP of Sales", "VP Marketing", "Vice President, Operations", "VP Engineering"), 0.85, 0.09),
    (
        ("Director of Marketing", "Head of Sales", "Director, IT", "Head of Revenue Operations"),
        0.7,
        0.14,
    ),
    (("Marketing Manager", "Sales Manager", "IT Manager", "Operations Manager"), 0.5, 0.22),
    (
        ("Senior Analyst", "Account Executive", "Software Engineer", "Marketing Specialist"),
        0.3,
        0.24,
    ),
    (("Student", "Intern", "Assistant", "Consultant", "Freelancer"), 0.05, 0.12),
    (("", "n/a", "-"), 0.1, 0.1),
)
COUNTRY_WEIGHTS = tuple(w for _, w in COUNTRIES)
TITLE_WEIGHTS = tuple(w for _, _, w in TITLES)
GOOD_INDUSTRIES = {
    "Technology",
    "Finance",
    "Banking",
    "Healthcare",
    "Telecommunications",
    "Insurance",
}
#: Subjects of one-to-one emails sales reps send (tracked EmailMessages).
EMAILS = (
    "Quick question about your pipeline",
    "Following up on the pricing guide",
    "Intro: leadsync for your RevOps team",
    "Notes from our call",
    "Customer story you asked about",
)
#: Names of the list email templates marketing sends (EmailStatus.EmailTemplateName).
LIST_EMAILS = (
    "Q3 Product Update",
    "Webinar Invite: Scaling RevOps",
    "Monthly Newsletter",
    "Pricing Guide Download",
)
#: List emails sent from Account Engagement and synced to Salesforce (no Task, no EmailStatus).
ACCOUNT_ENGAGEMENT_EMAILS = (
    "Nurture: Getting Started",
    "Nurture: Customer Stories",
    "Event Reminder",
)
#: Account Engagement (Pardot) grades, as its fields hold them.
PARDOT_GRADES = ("A+", "A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D", "F")
CAMPAIGNS = (
    ("Webinar: Pipeline Hygiene", "Webinar"),
    ("Webinar: Forecasting 101", "Webinar"),
    ("Newsletter Nurture", "Email"),
    ("Product Launch Email", "Email"),
    ("SaaStr Annual Booth", "Conference"),
    ("Dreamforce Meetups", "Conference"),
    ("Paid Search Q2", "Advertisement"),
    ("LinkedIn Ads Q3", "Advertisement"),
)
