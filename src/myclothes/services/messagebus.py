"""A small message bus: use cases publish what changed after their commit; subscribers react in order.

The composition root subscribes the handlers (the catalog cache forgets a changed product); a publisher never
knows who listens. A handler's error reaches the publisher, like the direct call it replaces.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from myclothes.domain.events import Event

E = TypeVar("E", bound=Event)
Handler = Callable[[Any], Awaitable[None]]


class MessageBus:
    """Hands each published event to the handlers subscribed to its type (the ``EventPublisher`` port)."""

    def __init__(self) -> None:
        self._handlers: defaultdict[type[Event], list[Handler]] = defaultdict(list)

    def subscribe(self, kind: type[E], handler: Callable[[E], Awaitable[None]]) -> None:
        """Call ``handler`` with every published event of type ``kind``."""
        self._handlers[kind].append(handler)

    async def publish(self, *events: Event) -> None:
        for event in events:
            for handler in self._handlers[type(event)]:
                await handler(event)
