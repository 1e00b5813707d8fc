"""Background jobs: the broker, the actors, and `DramatiqJobs` (the services' job port on them).

``dramatiq outboundql.workers`` (what ``outboundql worker`` runs) imports this package: that
installs the broker its environment's settings call for, then declares every actor on it. The API
server installs the broker of the settings handed to `create_app` instead (`install`), which moves
the actors onto it when it differs.
"""

from outboundql.settings import get_settings
from outboundql.workers.broker import current_broker, install, is_embedded

# The worker process's entry point: its settings are its environment's. Before the actor modules,
# which declare their actors on the installed broker.
install(get_settings())

from outboundql.workers import execution, imports, scoring, tokens, webhooks  # noqa: E402
from outboundql.workers.jobs import DramatiqJobs  # noqa: E402

__all__ = ["DramatiqJobs", "current_broker", "execution", "imports", "install", "is_embedded", "scoring", "tokens",
           "webhooks"]
