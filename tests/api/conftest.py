"""Fixtures shared by the API tests: the project's product and a campaign of it, made directly in the
database (the tests that exercise creating them call the API or the service themselves).

A module that needs another product or campaign name overrides ``product_fields`` or
``campaign_name`` (pytest's fixture override), e.g. a product in German::

    @pytest.fixture
    def product_fields() -> dict[str, Any]:
        return {"communication_language": "de"}
"""

from __future__ import annotations

from typing import Any

import pytest
from slugify import slugify

from outboundql import models
from tests.helpers import Person


@pytest.fixture
def product_fields() -> dict[str, Any]:
    """Columns of the ``product`` fixture besides its name and slug."""
    return {}


@pytest.fixture
async def product(owner: Person, project: models.Project, product_fields: dict[str, Any]) -> models.Product:
    """The product "Widget" (slug ``widget``) of ``project``, created by ``owner``."""
    return await models.Product.create(project=project, name="Widget", slug="widget", created_by=owner.user,
                                       **product_fields)


@pytest.fixture
def campaign_name() -> str:
    """The name of the ``campaign`` fixture; its slug is made from it."""
    return "Camp"


@pytest.fixture
async def campaign(owner: Person, project: models.Project, product: models.Product, campaign_name: str
                   ) -> models.Campaign:
    """A sales campaign of ``product`` named ``campaign_name`` ("Camp", slug ``camp``)."""
    return await models.Campaign.create(project=project, product=product, name=campaign_name,
                                        slug=slugify(campaign_name), goal_key="sales", created_by=owner.user)
