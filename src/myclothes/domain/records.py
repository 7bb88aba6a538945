"""Ids of stored records (addresses, orders): what the database can hold, so a larger number is simply not found."""

from __future__ import annotations

RECORD_ID_MAX = 2**31 - 1  # an Integer column: 32 bits in PostgreSQL (SQLite would hold 64)


def could_exist(record_id: int) -> bool:
    """Whether a record could have this id; one that cannot is not looked for (it is not found)."""
    return 1 <= record_id <= RECORD_ID_MAX
