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
from myclothes.domain.records import found, look_for
from myclothes.ports import Database, PasswordHasher
from myclothes.ports.database import LoginFailures

INVALID_LOGIN = "E-mail or password is incorrect."


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """Failed logins allowed. An account under attack (``account_max_per_hour`` failures from anywhere) is closed
    only to the addresses that failed on it, so nobody can lock a chosen account away from its owner; one address
    gets ``account_ip_max_per_hour`` tries at one account and ``ip_max_per_window`` at all accounts together."""

    account_max_per_hour: int = 100
    ip_max_per_window: int = 30
    ip_window_s: int = 300
    account_ip_max_per_hour: int = 10
    register_ip_max_per_hour: int = 20

    def refusal(self, failures: LoginFailures) -> str | None:
        """Why this attempt is refused (its own failure already counted), or None."""
        if failures.by_email_and_ip > min(self.account_ip_max_per_hour, self.account_max_per_hour):
            return "Too many failed logins for this account. Try again in an hour."
        if failures.by_email > self.account_max_per_hour and failures.by_email_and_ip > 1:
            return "Too many failed logins for this account. Try again in an hour."
        if failures.by_ip > self.ip_max_per_window:
            minutes = max(1, self.ip_window_s // 60)
            return f"Too many failed logins from your network. Try again in {minutes} minutes."
        return None


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

    async def register(
        self, email: str, password: str, name: str, ip: str | None = None, is_admin: bool = False
    ) -> Customer:
        """A new account. From a shopper (``ip`` given) the attempt is counted before the password is hashed, and
        one address gets ``register_ip_max_per_hour`` attempts an hour: neither sign-up spam nor argon2 work from
        one place is unbounded. (Accounts made by an operator, without ``ip``, are not counted.)"""
        email = normalize_email(email)
        validate_password(password)
        name = validate_name(name)
        if ip is not None:
            now = self.clock()
            async with self.database.writer() as uow:
                await uow.customers.record_registration(ip, now)
            async with self.database.writer() as uow:
                attempts = await uow.customers.registrations_from(ip, now - 3600)
            if attempts > self.limits.register_ip_max_per_hour:
                raise TooManyAttempts("Too many new accounts from your network. Try again in an hour.")
        password_hash = await self.hasher.hash(password)
        async with self.database.writer() as uow:
            return await uow.customers.create(email, name, password_hash, is_admin)

    async def login(self, email: str, password: str, ip: str) -> Customer:
        """The customer for these credentials; one error for unknown e-mail and wrong password.

        The attempt is counted as a failure *before* the password is checked (committed before the counts are read,
        so concurrent attempts see each other), and forgotten once it succeeds: of a burst of parallel guesses, no
        more than the limit get as far as the password check."""
        normalized = normalize_email(email, validate=False)
        now = self.clock()
        async with self.database.writer() as uow:
            attempt = await uow.customers.record_login_failure(normalized, ip, now)
        async with self.database.writer() as uow:  # the primary: a replica may not have the newest attempts yet
            failures = await uow.customers.login_failures(normalized, ip, now - 3600, now - self.limits.ip_window_s)
            row = await uow.customers.by_email(normalized)
        if (refusal := self.limits.refusal(failures)) is not None:
            raise TooManyAttempts(refusal)
        customer, password_hash = row if row else (None, None)
        if not await self.hasher.verify(password_hash, password or "") or customer is None:
            raise InvalidCredentials(INVALID_LOGIN)
        async with self.database.writer() as uow:
            await uow.customers.forget_login_failure(attempt)
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
            existing = await uow.customers.by_email(email)
            password_hash = await self.hasher.hash(password)
            if existing is None:
                return await uow.customers.create(email, validate_name(name), password_hash, is_admin=True)
            await uow.customers.set_password(existing[0].id, password_hash)
            await uow.customers.set_admin(existing[0].id, True)
            return Customer(existing[0].id, email, existing[0].name, True)

    async def addresses(self, customer_id: int) -> list[Address]:
        async with self.database.reader() as uow:  # read-your-writes keeps the shopper's own changes visible
            return await uow.customers.addresses(customer_id)

    async def address(self, customer_id: int, address_id: int) -> Address:
        look_for(address_id, "address")
        async with self.database.reader() as uow:
            return found(await uow.customers.address(customer_id, address_id), "address")

    async def add_address(self, customer_id: int, fields: AddressFields) -> Address:
        cleaned = fields.cleaned()
        async with self.database.writer() as uow:
            return await uow.customers.add_address(customer_id, cleaned)

    async def update_address(self, customer_id: int, address_id: int, fields: AddressFields) -> Address:
        cleaned = fields.cleaned()
        look_for(address_id, "address")
        async with self.database.writer() as uow:
            return found(await uow.customers.update_address(customer_id, address_id, cleaned), "address")

    async def delete_address(self, customer_id: int, address_id: int) -> None:
        look_for(address_id, "address")
        async with self.database.writer() as uow:
            if not await uow.customers.delete_address(customer_id, address_id):
                raise NotFound("no such address")
