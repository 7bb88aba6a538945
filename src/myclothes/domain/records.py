"""Ids of stored records (addresses, orders): what the database can hold, so a larger number is simply not found."""

from __future__ import annotations

from typing import TypeVar

from myclothes.domain.errors import NotFound

T = TypeVar("T")

RECORD_ID_MAX = 2**31 - 1  # an Integer column: 32 bits in PostgreSQL (SQLite would hold 64)


def could_exist(record_id: int) -> bool:
    """Whether a record could have this id; one that cannot is not looked for (it is not found)."""
    return 1 <= record_id <= RECORD_ID_MAX


def look_for(record_id: int, what: str) -> None:
    """Refuse at once an id no stored ``what`` can have (``NotFound``, as for any id not found)."""
    if not could_exist(record_id):
        raise NotFound(f"no such {what}")


def found(record: T | None, what: str) -> T:
    """``record``, or ``NotFound`` ("no such ``what``") when the lookup found nothing."""
    if record is None:
        raise NotFound(f"no such {what}")
    return record
