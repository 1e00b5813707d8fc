"""The built-in channels, registered through the public hook exactly like a third party's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from outboundql.channels import LOG
from outboundql.channels.email import EMAIL
from outboundql.channels.webhook import WEBHOOK
from outboundql.goals import hookimpl

if TYPE_CHECKING:
    from outboundql.channels.registry import RegisterChannel


@hookimpl
def outboundql_register_channels(register: RegisterChannel) -> None:
    register(LOG)
    register(WEBHOOK)
    register(EMAIL)
