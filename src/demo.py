"""Demo data for ``outboundql serve --demo``: a project with a product, an approved sales persona
and about 200 varied accounts with contacts. Seeding is deterministic and happens once; every
run issues a fresh API token for the demo user. Call `seed_demo` with a runtime configured
(`outboundql.services.runtime`), as the CLI does."""

from __future__ import annotations

import random

from outboundql import models
from outboundql.enums import AccountStatus, RoleKind
from outboundql.services import accounts, personas, products, projects, runtime, tokens, users
from outboundql.services.access import Access
from outboundql.services.contacts import NewContact

DEMO_EMAIL = "demo@outboundql.dev"
DEMO_PROJECT = "Demo Outbound"
ACCOUNT_COUNT = 200

_INDUSTRIES = {
    "Logistics": ["freight", "fleet", "warehousing", "last-mile delivery"],
    "Manufacturing": ["factory", "supply chain", "quality control", "ERP"],
    "Retail": ["e-commerce", "stores", "inventory", "omnichannel"],
    "Healthcare": ["clinics", "patient records", "compliance"],
    "Software": ["SaaS", "developer tools", "cloud", "APIs"],
    "Financial Services": ["payments", "risk", "banking", "compliance"],
    "Media": ["newsroom", "publishing", "podcast", "audience"],
    "Hospitality": ["hotels", "bookings", "events", "venues"],
    "Education": ["e-learning", "campus", "students"],
    "Energy": ["solar", "grid", "utilities"],
}
_CITIES = {
    "ES": ["Madrid", "Barcelona", "Valencia", "Sevilla"],
    "US": ["New York", "Austin", "Chicago", "San Francisco"],
    "DE": ["Berlin", "Munich", "Hamburg"],
    "FR": ["Paris", "Lyon", "Toulouse"],
    "GB": ["London", "Manchester", "Bristol"],
    "MX": ["Mexico City", "Guadalajara"],
    "NL": ["Amsterdam", "Rotterdam"],
}
_LANG = {"ES": "es", "US": "en", "DE": "de", "FR": "fr", "GB": "en", "MX": "es", "NL": "nl"}
_PREFIX = ["Nova", "Atlas", "Blue", "Iron", "Bright", "North", "Vertex", "Lumen", "Cobalt", "Green", "Swift",
           "Prime", "Orbit", "Summit", "Harbor", "Pioneer", "Quantum", "Silver", "Urban", "Delta"]
_SUFFIX = ["Logistics", "Labs", "Works", "Systems", "Partners", "Group", "Media", "Health", "Foods", "Energy",
           "Analytics", "Retail", "Freight", "Studio", "Capital", "Robotics", "Network", "Digital"]
_LEGAL = {"ES": "S.L.", "US": "Inc.", "DE": "GmbH", "FR": "SAS", "GB": "Ltd", "MX": "S.A.", "NL": "B.V."}
_FIRST = ["Ana", "Marc", "Laura", "John", "Sophie", "Lukas", "Marie", "Carlos", "Emma", "Noah", "Julia", "Pau",
          "Olivia", "Hugo", "Lea", "David", "Sara", "Tom", "Nina", "Jordi"]
_LAST = ["García", "Smith", "Müller", "Martin", "Brown", "Puig", "Schmidt", "Dubois", "López", "Taylor", "Vidal"]
_TITLES = [("CEO", "c_level", True), ("COO", "c_level", True), ("Head of Operations", "director", True),
           ("VP Sales", "vp", True), ("Operations Manager", "manager", False), ("Procurement Lead", "manager", True),
           ("CTO", "c_level", True), ("Editor", "individual", False), ("Analyst", "individual", False)]
# Status mix: mostly pipeline, with every relationship and protection status represented.
_STATUSES = (
    [AccountStatus.NEW] * 110 + [AccountStatus.INITIATED] * 18 + [AccountStatus.ENGAGED] * 12
    + [AccountStatus.QUALIFIED] * 8 + [AccountStatus.CUSTOMER] * 12 + [AccountStatus.LOST] * 5
    + [AccountStatus.CHURNED] * 5 + [AccountStatus.PARTNER] * 4 + [AccountStatus.SUPPLIER] * 4
    + [AccountStatus.INVESTOR] * 3 + [AccountStatus.PRESS] * 6 + [AccountStatus.ANALYST] * 2
    + [AccountStatus.CANDIDATE] * 2 + [AccountStatus.COMPETITOR] * 4 + [AccountStatus.PERSONAL_NETWORK] * 2
    + [AccountStatus.DO_NOT_CONTACT] * 3
)


def demo_accounts(count: int = ACCOUNT_COUNT, seed: int = 42) -> list[accounts.NewAccount]:
    """Deterministic accounts to create (with contacts), for `accounts.bulk_create_accounts`."""
    rng = random.Random(seed)
    statuses = list(_STATUSES)
    rng.shuffle(statuses)
    items: list[accounts.NewAccount] = []
    used: set[str] = set()
    while len(items) < count:
        base = f"{rng.choice(_PREFIX)} {rng.choice(_SUFFIX)}"
        if base in used:
            base = f"{base} {rng.choice(['One', 'Co', 'Hub', 'Lab', 'X', 'Plus', 'Pro'])}"
            if base in used:
                continue
        used.add(base)
        country = rng.choice(list(_CITIES))
        industry = rng.choice(list(_INDUSTRIES))
        status = statuses[len(items) % len(statuses)]
        size = rng.choice([8, 25, 60, 120, 250, 600, 1500, 5000])
        slug = base.lower().replace(" ", "")
        tld = {"US": "com", "GB": "co.uk"}.get(country, country.lower())
        press = status is AccountStatus.PRESS or industry == "Media"
        contacts: list[NewContact] = []
        for _ in range(rng.randint(1, 3)):
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            title, seniority, decides = rng.choice(_TITLES)
            contacts.append(NewContact(
                name=f"{first} {last}",
                title=title,
                email=f"{first.lower()}.{len(contacts)}@{slug}.{tld}".replace("ü", "u").replace("í", "i"),
                seniority=seniority,
                is_decision_maker=decides,
                role_kind=RoleKind.JOURNALIST if press and title == "Editor" else RoleKind.BUYER,
                do_not_contact=status is AccountStatus.DO_NOT_CONTACT,
            ))
        items.append(accounts.NewAccount(
            name=f"{base} {_LEGAL[country]}",
            domain=f"{slug}.{tld}",
            industry=industry,
            employee_count=size,
            country=country,
            city=rng.choice(_CITIES[country]),
            language=_LANG[country],
            description=f"{industry} company working on {', '.join(rng.sample(_INDUSTRIES[industry], 2))}.",
            tags=tuple(rng.sample(["priority", "inbound", "event-2026", "referral", "enterprise", "smb"], 2)),
            custom_fields={"fleet_size": rng.randint(0, 400)} if industry == "Logistics" else {},
            source="demo",
            status=status,
            contacts=tuple(contacts),
        ))
    return items


async def seed_demo() -> str:
    """Seed the demo project unless it exists; return a new API token for the demo user.

    Everything goes through the services, with the runtime the caller configured (its goals, its
    event bus), so seeding publishes the same events as the API would."""
    goals = runtime.goals()
    user = await users.find_user(DEMO_EMAIL) or await users.create_user(DEMO_EMAIL, "Demo User", "en")
    project = await models.Project.filter(name=DEMO_PROJECT, memberships__user_id=user.id).first()
    if project is None:
        access = await Access.for_user(user)
        project = (await projects.create_project(
            access, projects.CreateProject(name=DEMO_PROJECT, description="Sample data to explore the API."))).project
        product = (await products.create_product(access, products.CreateProduct(
            project_id=project.id,
            name="RouteWise",
            description="Route optimisation software for mid-sized logistics and delivery fleets: plans routes, "
                        "cuts fuel costs and gives dispatchers live ETAs.",
            website_url="https://routewise.example",
            communication_language="en",
            example_good_urls=["https://fleetco.example", "https://lastmile.example"],
            example_bad_urls=["https://bakery.example"],
        ))).product
        persona = (await personas.upsert_persona(access, goals, personas.UpsertPersona(
            product_id=product.id,
            goal="sales",
            name="Operations leader at a growing fleet",
            summary="Runs daily delivery operations and feels the cost of bad routes.",
            industries=["Logistics", "Retail", "Manufacturing"],
            job_titles=["Head of Operations", "COO", "Operations Manager"],
            pain_points=["rising fuel costs", "late deliveries", "manual dispatch planning"],
            company_size_min=50,
            company_size_max=2000,
            countries=["ES", "US", "DE", "FR", "GB"],
            keywords=["fleet", "delivery", "dispatch", "last-mile"],
            exclusions=["freight brokers"],
        ))).persona
        await personas.approve_persona(access, personas.ApprovePersona(id=persona.id))
        await accounts.bulk_create_accounts(
            access, accounts.BulkCreateAccounts(project.id, tuple(demo_accounts())), max_items=ACCOUNT_COUNT)
    return (await tokens.create_api_token(user, tokens.CreateApiToken(name="demo"))).secret
