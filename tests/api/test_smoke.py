from tests.helpers import data_of

VIEWER = """
query { viewer { email memberships { role project { slug } } } }
"""


async def test_viewer_sees_their_projects(gql, owner, project) -> None:
    data = data_of(await gql(VIEWER, as_=owner))
    assert data["viewer"]["email"] == "owner@example.com"
    assert data["viewer"]["memberships"] == [{"role": "OWNER", "project": {"slug": "acme-outbound"}}]
