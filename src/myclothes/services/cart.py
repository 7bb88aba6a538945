"""The shopper's cart: add, change, remove, view priced lines, merge at login."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from myclothes.domain.cart import MAX_QUANTITY, CartLine, CartView, PricedLine, describe_merge, validate_quantity
from myclothes.domain.catalog import Variant, VariantListing
from myclothes.domain.errors import Conflict, InvalidInput
from myclothes.ports import CartStore, Database, GuardedCartStore, SessionChanged, SessionGuard

log = logging.getLogger("myclothes.services.cart")
VARIANT_TTL_S = 1.0  # cart pages may show a price or stock level up to this old; checkout always reads the database
VARIANT_CACHE_MAX = 50_000


class CartService:
    def __init__(self, store: CartStore, database: Database, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.guarded_store = store if isinstance(store, GuardedCartStore) else None
        self.database = database
        self.clock = clock
        self._variants: dict[str, tuple[float, VariantListing | None]] = {}
        self._stale: set[str] = set()
        self._refresh: asyncio.Task[None] | None = None
        # (sku, quantity) -> (the listing it was priced from, the priced line): a cart view re-prices only lines
        # whose quantity or variant data (price, stock; reloaded every second) changed
        self._priced_lines: dict[tuple[str, int], tuple[VariantListing, PricedLine]] = {}

    async def view(self, cart_id: str | None, known: list[CartLine] | None = None) -> CartView:
        """The cart priced; ``known``: its lines, already read in this request."""
        if cart_id is None:
            return CartView(items=[])
        return await self._priced(known if known is not None else await self.store.lines(cart_id))

    async def count(self, cart_id: str | None, known: list[CartLine] | None = None) -> int:
        if cart_id is None:
            return 0
        return sum(line.quantity for line in (known if known is not None else await self.store.lines(cart_id)))

    async def add(self, cart_id: str, sku: str, quantity: int, guard: SessionGuard | None = None) -> CartView:
        """Add to the cart in one store operation; the store enforces the line limit (99, or the stock) atomically.
        With ``guard``, only if the shopper's session is unchanged (else ``SessionChanged``, nothing written)."""
        validate_quantity(quantity)
        variant = await self._variant(sku)
        if variant.stock <= 0:
            raise Conflict("this size and colour is sold out", field="sku")
        limit = min(MAX_QUANTITY, variant.stock)
        if quantity > limit:
            raise Conflict(f"only {variant.stock} left in stock", field="quantity")
        try:
            if guard is None:
                lines = await self.store.add(cart_id, sku, quantity, limit)
            else:
                lines = await self._guarded().add_guarded(guard, cart_id, sku, quantity, limit)
        except Conflict as error:
            if error.field == "quantity" and limit < MAX_QUANTITY:
                raise Conflict(f"only {variant.stock} left in stock", field="quantity") from None
            raise
        return await self._priced(lines)

    async def set_quantity(self, cart_id: str, sku: str, quantity: int, guard: SessionGuard | None = None) -> CartView:
        validate_quantity(quantity, allow_zero=True)
        if quantity:
            variant = await self._variant(sku)
            if quantity > variant.stock:
                raise Conflict(f"only {variant.stock} left in stock", field="quantity")
        if guard is None:
            return await self._priced(await self.store.set_quantity(cart_id, sku, quantity))
        return await self._priced(await self._guarded().set_quantity_guarded(guard, cart_id, sku, quantity))

    def _guarded(self) -> GuardedCartStore:
        """The store, for a guarded write; a store that cannot check a guard makes the caller read the session."""
        if self.guarded_store is None:
            raise SessionChanged
        return self.guarded_store

    async def remove(self, cart_id: str, sku: str) -> CartView:
        return await self._priced(await self.store.remove(cart_id, sku))

    async def clear(self, cart_id: str) -> None:
        await self.store.clear(cart_id)

    async def merge(self, guest_cart_id: str, customer_cart_id: str) -> list[str]:
        """Move a guest cart into the customer's; return sentences saying what changed."""
        changes = await self.store.merge(guest_cart_id, customer_cart_id)
        if not changes:
            return []
        found = await self._lookup([change.sku for change in changes])
        names = {
            sku: f"{listing.product_name} ({listing.variant.colour}, {listing.variant.size})"
            for sku, listing in found.items()
        }
        return describe_merge(changes, names)

    async def _variant(self, sku: str) -> Variant:
        if not isinstance(sku, str) or not sku or len(sku) > 40:
            raise InvalidInput("unknown SKU", field="sku")
        found = await self._lookup([sku])
        if sku not in found:
            raise InvalidInput(f"unknown SKU {sku!r}", field="sku")
        return found[sku][0]

    async def _lookup(self, skus: list[str]) -> dict[str, VariantListing]:
        """Variants with their product name and slug, from an in-process cache.

        Unknown SKUs are loaded at once. Entries older than a second are still served while one background task
        reloads them (stale-while-revalidate), so a busy cart page never waits on the database for prices.
        """
        now = self.clock()
        found: dict[str, VariantListing] = {}
        missing, stale = [], []
        for sku in skus:
            entry = self._variants.get(sku)
            if entry is None:
                missing.append(sku)
                continue
            if entry[0] < now:
                stale.append(sku)
            if entry[1] is not None:
                found[sku] = entry[1]
        if missing:
            found.update(await self._load(missing))
        if stale:
            self._reload_later(stale)
        return found

    def _reload_later(self, stale: list[str]) -> None:
        """Reload these variants in the background (one task at a time); their old entries are served meanwhile."""
        self._stale.update(stale)
        if self._refresh is None or self._refresh.done():
            self._refresh = asyncio.create_task(self._reload_stale())

    async def _load(self, skus: list[str]) -> dict[str, VariantListing]:
        async with self.database.reader() as uow:
            loaded = await uow.catalog.variants(skus)
        if len(self._variants) > VARIANT_CACHE_MAX:
            self._variants.clear()
        expires = self.clock() + VARIANT_TTL_S
        for sku in skus:
            self._variants[sku] = (expires, loaded.get(sku))
        return loaded

    async def _reload_stale(self) -> None:
        while self._stale:
            batch = list(self._stale)[:500]
            self._stale.difference_update(batch)
            try:
                await self._load(batch)
            except Exception:  # a failed refresh leaves the old entries; the next request retries
                log.warning("variant refresh failed", exc_info=True)
                return

    async def _priced(self, lines: list[CartLine]) -> CartView:
        if not lines:
            return CartView(items=[])
        # One pass while every variant is cached (a stale one is served and reloaded in the background, as
        # ``_lookup`` does); a variant not cached yet sends the whole cart through ``_lookup``.
        now, variants, kept = self.clock(), self._variants, self._priced_lines
        items = []
        stale: list[str] = []
        for line in lines:
            entry = variants.get(line.sku)
            if entry is None:
                return await self._priced_looked_up(lines)
            if entry[0] < now:
                stale.append(line.sku)
            listing = entry[1]
            if listing is None:
                continue  # the product was withdrawn: the line is no longer sold
            known = kept.get((line.sku, line.quantity))
            items.append(known[1] if known is not None and known[0] is listing else self._price(line, listing))
        if stale:
            self._reload_later(stale)
        return CartView(items=items)

    async def _priced_looked_up(self, lines: list[CartLine]) -> CartView:
        found = await self._lookup([line.sku for line in lines])
        items = []
        for line in lines:
            listing = found.get(line.sku)
            if listing is None:
                continue
            known = self._priced_lines.get((line.sku, line.quantity))
            items.append(known[1] if known is not None and known[0] is listing else self._price(line, listing))
        return CartView(items=items)

    def _price(self, line: CartLine, listing: VariantListing) -> PricedLine:
        """The line priced from ``listing``, kept for the next view while quantity and variant data stay the same."""
        variant, name, slug = listing
        priced = PricedLine(
            sku=line.sku,
            name=name,
            slug=slug,
            size=variant.size,
            colour=variant.colour,
            unit_price=variant.price,
            quantity=line.quantity,
            stock=variant.stock,
        )
        if len(self._priced_lines) > VARIANT_CACHE_MAX:
            self._priced_lines.clear()
        self._priced_lines[(line.sku, line.quantity)] = (listing, priced)
        return priced
