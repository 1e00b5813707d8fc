"""The channels' delivery sessions of one executing batch: a channel that delivers a batch through one session
(`outboundql.channels.BatchChannel`, e.g. ``email`` over one kept SMTP connection) gets one per configuration,
opened at the batch's first delivery through it and closed when the batch is delivered; any other channel is called
at ``deliver`` for each attempt.

A session that cannot be opened (its channel raised) is not tried again in the batch: its attempts are delivered one
by one through ``deliver``. A session that fails to close is logged and left: what it delivered is delivered.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AbstractAsyncContextManager
from types import TracebackType

from outboundql import channels

log = logging.getLogger(__name__)

#: Seconds closing one session may take (a server that does not answer its goodbye).
CLOSE_TIMEOUT = 30.0


class Sessions:
    """The open sessions of one batch, by channel and message channel (one configuration each)."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, str], tuple[AbstractAsyncContextManager[channels.DeliverySession],
                                                channels.DeliverySession] | None] = {}

    async def __aenter__(self) -> Sessions:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.close()

    async def of(self, channel: channels.OutreachChannel, config: channels.Configured
                 ) -> channels.DeliverySession | None:
        """The batch's session of ``channel`` through ``config`` (opened now at its first use); None: deliver one by
        one (the channel has no sessions, or its session could not be opened)."""
        key = (channel.key, config.kind)
        if key in self._open:
            found = self._open[key]
            return found[1] if found is not None else None
        opener = getattr(channel, "session", None)
        if opener is None:
            self._open[key] = None
            return None
        try:
            manager: AbstractAsyncContextManager[channels.DeliverySession] = opener(config)
            session = await manager.__aenter__()
        except Exception:  # a plugin's bug: its attempts still go out, one by one
            log.exception("The %s channel could not open a delivery session; delivering one by one.", channel.key)
            self._open[key] = None
            return None
        except BaseException:  # opening was cut off (the delivery's time bound): not tried again in this batch
            self._open[key] = None
            raise
        self._open[key] = (manager, session)
        return session

    async def close(self) -> None:
        """Close every open session (each bounded by `CLOSE_TIMEOUT`; a failure is logged)."""
        opened, self._open = self._open, {}
        for (key, kind), found in opened.items():
            if found is None:
                continue
            try:
                async with asyncio.timeout(CLOSE_TIMEOUT):
                    await found[0].__aexit__(None, None, None)
            except Exception:
                log.exception("The %s channel's delivery session (%s) did not close cleanly.", key, kind)
