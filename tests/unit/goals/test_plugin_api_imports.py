"""The plugin API is light: a goal plugin's process imports `outboundql.goals` (and its testing kit)
without loading the ORM, the GraphQL layer or the services."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("tortoise", "outboundql.models", "outboundql.services", "outboundql.gql", "strawberry", "dramatiq")


def test_importing_the_plugin_api_loads_no_orm_nor_server_code() -> None:
    script = (
        "import sys\n"
        "import outboundql.goals, outboundql.goals.manager, outboundql.goals.testing, outboundql.enums\n"
        f"heavy = {HEAVY!r}\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout
