"""Registration, login with failed-attempt limits, and the address book."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from myclothes.domain.customers import (
    Address,
    AddressFields,
    Customer,
    normalize_email,
    validate_name,
    validate_password,
)
from myclothes.domain.errors import InvalidCredentials, InvalidInput, NotFound, TooManyAttempts
from myclothes.ports import Database, PasswordHasher

INVALID_LOGIN = "E-mail or password is incorrect."


@dataclass(frozen=True, slots=True)
class LoginLimits:
    account_max_per_hour: int = 100
    ip_max_per_window: int = 30
    ip_window_s: int = 300


class AccountService:
    def __init__(
        self,
        database: Database,
        hasher: PasswordHasher,
        limits: LoginLimits,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.database = database
        self.hasher = hasher
        self.limits = limits
        self.clock = clock

    async def register(self, email: str, password: str, name: str, is_admin: bool = False) -> Customer:
        email = normalize_email(email)
        validate_password(password)
        name = validate_name(name)
        password_hash = await self.hasher.hash(password)
        async with self.database.writer() as uow:
            return await uow.customers.create(email, name, password_hash, is_admin)

    async def login(self, email: str, password: str, ip: str) -> Customer:
        """The customer for these credentials; one error for unknown e-mail and wrong password."""
        normalized = normalize_email(email, validate=False)
        now = self.clock()
        async with self.database.reader() as uow:
            by_email, by_ip = await uow.customers.login_failures(
                normalized, ip, now - 3600, now - self.limits.ip_window_s
            )
        if by_email >= self.limits.account_max_per_hour:
            raise TooManyAttempts("Too many failed logins for this account. Try again in an hour.")
        if by_ip >= self.limits.ip_max_per_window:
            minutes = max(1, self.limits.ip_window_s // 60)
            raise TooManyAttempts(f"Too many failed logins from your network. Try again in {minutes} minutes.")
        async with self.database.reader() as uow:
            found = await uow.customers.by_email(normalized)
        customer, password_hash = found if found else (None, None)
        if not await self.hasher.verify(password_hash, password or "") or customer is None:
            async with self.database.writer() as uow:
                await uow.customers.record_login_failure(normalized, ip, now)
            raise InvalidCredentials(INVALID_LOGIN)
        return customer

    async def change_password(self, customer: Customer, current: str, new: str, ip: str, at: float) -> Customer:
        """Set a new password, the current one required (under the same limits as a login, so a stolen session
        cannot guess it); sessions logged in before ``at`` end. A wrong current password is a 400 on its field."""
        try:
            await self.login(customer.email, current, ip)
        except InvalidCredentials:
            raise InvalidInput("is not your current password", field="current_password") from None
        try:
            validate_password(new)
        except InvalidInput as error:
            raise InvalidInput(error.message, field="new_password") from None
        if new == current:
            raise InvalidInput("must differ from the current password", field="new_password")
        password_hash = await self.hasher.hash(new)
        async with self.database.writer() as uow:
            await uow.customers.set_password(customer.id, password_hash, sessions_valid_from=at)
        return Customer(customer.id, customer.email, customer.name, customer.is_admin, at)

    async def customer(self, customer_id: int) -> Customer | None:
        async with self.database.reader() as uow:
            return await uow.customers.by_id(customer_id)

    async def create_admin(self, email: str, password: str, name: str) -> Customer:
        """Create an admin, or make an existing account admin with this password."""
        email = normalize_email(email)
        validate_password(password)
        async with self.database.writer() as uow:
            found = await uow.customers.by_email(email)
            password_hash = await self.hasher.hash(password)
            if found is None:
                return await uow.customers.create(email, validate_name(name), password_hash, is_admin=True)
            await uow.customers.set_password(found[0].id, password_hash)
            await uow.customers.set_admin(found[0].id, True)
            return Customer(found[0].id, email, found[0].name, True)

    async def addresses(self, customer_id: int) -> list[Address]:
        async with self.database.reader() as uow:  # read-your-writes keeps the shopper's own changes visible
            return await uow.customers.addresses(customer_id)

    async def address(self, customer_id: int, address_id: int) -> Address:
        async with self.database.reader() as uow:
            found = await uow.customers.address(customer_id, address_id)
        if found is None:
            raise NotFound("no such address")
        return found

    async def add_address(self, customer_id: int, fields: AddressFields) -> Address:
        cleaned = fields.cleaned()
        async with self.database.writer() as uow:
            return await uow.customers.add_address(customer_id, cleaned)

    async def update_address(self, customer_id: int, address_id: int, fields: AddressFields) -> Address:
        cleaned = fields.cleaned()
        async with self.database.writer() as uow:
            updated = await uow.customers.update_address(customer_id, address_id, cleaned)
        if updated is None:
            raise NotFound("no such address")
        return updated

    async def delete_address(self, customer_id: int, address_id: int) -> None:
        async with self.database.writer() as uow:
            if not await uow.customers.delete_address(customer_id, address_id):
                raise NotFound("no such address")
