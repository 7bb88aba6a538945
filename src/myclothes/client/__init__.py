"""One HTTP shopper client: the store's JSON API as a browser speaks it (cookies, CSRF echo, idempotency keys).

``api`` holds the vocabulary (one ``Call`` per shopper action, and the test data a shopper types in), ``cookies``
the browser's side of CSRF and cookies; ``sync`` and ``aio`` are thin transports over httpx. The client speaks
HTTP only: it imports nothing of the store itself (an import-linter contract says so).
"""

from myclothes.client.api import ADDRESS, CARD, PASSWORD, Call, unique_email
from myclothes.client.sync import ShopClient, in_stock_skus

__all__ = ["ADDRESS", "CARD", "PASSWORD", "Call", "ShopClient", "in_stock_skus", "unique_email"]
