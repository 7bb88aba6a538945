"""Accounts, the address book and failed-login records."""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from myclothes.db.repositories.base import Repository, inserted_id, utcnow
from myclothes.db.tables import addresses, login_failures, registrations, users
from myclothes.domain.customers import MAX_ADDRESSES, Address, AddressFields, Customer, postal_fields
from myclothes.domain.errors import Conflict
from myclothes.ports.database import LoginFailures


class SqlCustomerRepository(Repository):
    _customer_columns = (users.c.id, users.c.email, users.c.name, users.c.is_admin, users.c.sessions_valid_from)

    async def by_email(self, email: str) -> tuple[Customer, str] | None:
        row = (
            await self.connection.execute(
                select(*self._customer_columns, users.c.password_hash).where(users.c.email == email)
            )
        ).first()
        return (Customer(*row[:5]), row[5]) if row else None

    async def by_id(self, customer_id: int) -> Customer | None:
        row = (await self.connection.execute(select(*self._customer_columns).where(users.c.id == customer_id))).first()
        return Customer(*row) if row else None

    async def create(self, email: str, name: str, password_hash: str, is_admin: bool = False) -> Customer:
        connection = self._writing()
        try:
            async with connection.begin_nested():
                result = await connection.execute(
                    insert(users).values(
                        email=email, name=name, password_hash=password_hash, is_admin=is_admin, created_at=utcnow()
                    )
                )
        except IntegrityError:
            raise Conflict("an account with this e-mail address already exists", field="email") from None
        return Customer(inserted_id(result), email, name, is_admin)

    async def set_password(
        self, customer_id: int, password_hash: str, sessions_valid_from: float | None = None
    ) -> None:
        values: dict[str, object] = {"password_hash": password_hash}
        if sessions_valid_from is not None:
            values["sessions_valid_from"] = sessions_valid_from
        await self._writing().execute(update(users).where(users.c.id == customer_id).values(**values))

    async def set_admin(self, customer_id: int, is_admin: bool) -> None:
        await self._writing().execute(update(users).where(users.c.id == customer_id).values(is_admin=is_admin))

    _address_columns = (
        addresses.c.id,
        addresses.c.full_name,
        addresses.c.line1,
        addresses.c.line2,
        addresses.c.city,
        addresses.c.postal_code,
        addresses.c.country,
        addresses.c.phone,
        addresses.c.is_default,
    )

    async def addresses(self, customer_id: int) -> list[Address]:
        rows = await self.connection.execute(
            select(*self._address_columns)
            .where(addresses.c.user_id == customer_id)
            .order_by(addresses.c.is_default.desc(), addresses.c.id)
        )
        return [Address(*row) for row in rows]

    async def address(self, customer_id: int, address_id: int) -> Address | None:
        row = (
            await self.connection.execute(
                select(*self._address_columns).where(addresses.c.user_id == customer_id, addresses.c.id == address_id)
            )
        ).first()
        return Address(*row) if row else None

    async def add_address(self, customer_id: int, fields: AddressFields) -> Address:
        connection = self._writing()
        count = (await connection.execute(select(func.count()).where(addresses.c.user_id == customer_id))).scalar_one()
        if count >= MAX_ADDRESSES:
            raise Conflict(f"an address book holds at most {MAX_ADDRESSES} addresses")
        is_default = fields.is_default or count == 0
        if is_default:
            await self._clear_default(customer_id)
        values = postal_fields(fields)
        result = await connection.execute(
            insert(addresses).values(user_id=customer_id, is_default=is_default, **values)
        )
        address_id = inserted_id(result)
        found = await self.address(customer_id, address_id)
        assert found is not None
        return found

    async def update_address(self, customer_id: int, address_id: int, fields: AddressFields) -> Address | None:
        current = await self.address(customer_id, address_id)
        if current is None:
            return None
        if fields.is_default:
            await self._clear_default(customer_id)
        is_default = fields.is_default or current.is_default  # unset a default only by choosing another
        await self._writing().execute(
            update(addresses)
            .where(addresses.c.id == address_id, addresses.c.user_id == customer_id)
            .values(is_default=is_default, **postal_fields(fields))
        )
        return await self.address(customer_id, address_id)

    async def delete_address(self, customer_id: int, address_id: int) -> bool:
        current = await self.address(customer_id, address_id)
        if current is None:
            return False
        connection = self._writing()
        await connection.execute(
            delete(addresses).where(addresses.c.id == address_id, addresses.c.user_id == customer_id)
        )
        if current.is_default:
            oldest = (
                await connection.execute(
                    select(addresses.c.id).where(addresses.c.user_id == customer_id).order_by(addresses.c.id).limit(1)
                )
            ).scalar_one_or_none()
            if oldest is not None:
                await connection.execute(update(addresses).where(addresses.c.id == oldest).values(is_default=True))
        return True

    async def _clear_default(self, customer_id: int) -> None:
        await self._writing().execute(
            update(addresses).where(addresses.c.user_id == customer_id).values(is_default=False)
        )

    async def record_login_failure(self, email: str, ip: str, at: float) -> int:
        connection = self._writing()
        result = await connection.execute(insert(login_failures).values(email=email, ip=ip, at=at))
        # Keep the table small: failures older than a day no longer count for anything.
        await connection.execute(delete(login_failures).where(login_failures.c.at < at - 86400))
        return inserted_id(result)

    async def forget_login_failure(self, failure_id: int) -> None:
        await self._writing().execute(delete(login_failures).where(login_failures.c.id == failure_id))

    async def record_registration(self, ip: str, at: float) -> None:
        connection = self._writing()
        await connection.execute(insert(registrations).values(ip=ip, at=at))
        await connection.execute(delete(registrations).where(registrations.c.at < at - 86400))

    async def registrations_from(self, ip: str, since: float) -> int:
        count = select(func.count()).where(registrations.c.ip == ip, registrations.c.at >= since)
        return int((await self.connection.execute(count)).scalar_one())

    async def login_failures(self, email: str, ip: str, email_since: float, ip_since: float) -> LoginFailures:
        recent = login_failures.c.at >= email_since
        by_email = select(func.count()).where(login_failures.c.email == email, recent)
        by_pair = select(func.count()).where(login_failures.c.email == email, login_failures.c.ip == ip, recent)
        by_ip = select(func.count()).where(login_failures.c.ip == ip, login_failures.c.at >= ip_since)
        counts = select(by_email.scalar_subquery(), by_pair.scalar_subquery(), by_ip.scalar_subquery())
        row = (await self.connection.execute(counts)).one()
        return LoginFailures(int(row[0]), int(row[1]), int(row[2]))
