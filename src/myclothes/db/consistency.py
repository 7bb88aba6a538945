"""Read-your-writes: the shopper's last commit position (a PostgreSQL WAL LSN), carried per request.

The web tier keeps the LSN in the shopper's session. Per request it calls :func:`track_session_lsn` with the
stored value (``SqlDatabase.track_session_lsn`` is the same call, reachable through the shop); ``writer()`` units
advance the returned :class:`SessionPosition` after they commit, and ``reader()`` units use a replica only if it
has replayed at least that position. After the handler, the web tier stores ``position.lsn`` back in the session.

The context variable holds a mutable position, so a commit made in a child task (``asyncio.gather``) still
reaches the request that started it.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

SESSION_KEY = "db_lsn"  # the session key the web tier stores the position under


def lsn_to_int(lsn: str) -> int:
    """``'16/B374D848'`` -> a comparable integer; raise ``ValueError`` for anything else."""
    high, _, low = lsn.strip().partition("/")
    if not high or not low:
        raise ValueError(f"not a WAL position: {lsn!r}")
    return (int(high, 16) << 32) + int(low, 16)


@dataclass(slots=True)
class SessionPosition:
    """The newest commit this shopper's session has made, as a PostgreSQL LSN text (or None)."""

    lsn: str | None = None

    def advance(self, lsn: str) -> None:
        """Move forward to ``lsn``; an older position never replaces a newer one."""
        if self.lsn is None or _safe_int(lsn) > _safe_int(self.lsn):
            self.lsn = lsn

    @property
    def value(self) -> int | None:
        """The position as an integer, or None when there is none (or it is malformed)."""
        if self.lsn is None:
            return None
        number = _safe_int(self.lsn)
        return number if number >= 0 else None


def _safe_int(lsn: str) -> int:
    try:
        return lsn_to_int(lsn)
    except (ValueError, AttributeError):
        return -1


_position: ContextVar[SessionPosition | None] = ContextVar("myclothes_session_lsn", default=None)


def track_session_lsn(lsn: str | None) -> SessionPosition:
    """Start tracking this context's session at ``lsn`` (what the session stored, or None); return the position."""
    position = SessionPosition()
    if isinstance(lsn, str) and _safe_int(lsn) >= 0:
        position.lsn = lsn
    _position.set(position)
    return position


def current_position() -> SessionPosition | None:
    """The tracked position of this context, or None when no session is being tracked."""
    return _position.get()
