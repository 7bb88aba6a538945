"""The seams between the shop's use cases and the things that store its state, one module per concern.

Services depend on these protocols only; ``bootstrap`` picks the concrete backends from settings.
"""

from myclothes.ports.cache import Cache, CatalogCache
from myclothes.ports.carts import CartStore, ClientStateCarrier, GuardedCartStore
from myclothes.ports.database import (
    CatalogRepository,
    CommitPosition,
    CustomerRepository,
    Database,
    OrderRepository,
    UnitOfWork,
)
from myclothes.ports.services import EventPublisher, PasswordHasher, PaymentGateway
from myclothes.ports.sessions import (
    AddedToCart,
    CartGuess,
    CartPrefetchingSessionStore,
    GuardedSessionStore,
    LateMerge,
    Notice,
    SessionChanged,
    SessionGuard,
    SessionRecord,
    SessionState,
    SessionStore,
)

__all__ = [
    "AddedToCart",
    "Cache",
    "CartGuess",
    "CartPrefetchingSessionStore",
    "CartStore",
    "CatalogCache",
    "CatalogRepository",
    "ClientStateCarrier",
    "CommitPosition",
    "CustomerRepository",
    "Database",
    "EventPublisher",
    "GuardedCartStore",
    "GuardedSessionStore",
    "LateMerge",
    "Notice",
    "OrderRepository",
    "PasswordHasher",
    "PaymentGateway",
    "SessionChanged",
    "SessionGuard",
    "SessionRecord",
    "SessionState",
    "SessionStore",
    "UnitOfWork",
]
