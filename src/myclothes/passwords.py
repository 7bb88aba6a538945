"""Password hashing with argon2id (m=19 MiB, t=2, p=1: OWASP's minimum), off the event loop.

At most ``MAX_CONCURRENT_HASHES`` hashes run at once per process (the rest wait their turn, within the request's
deadline): a flood of logins or registrations costs a bounded 19 MiB each and at most that many cores, instead of
one thread (and 19 MiB) per request in flight.
"""

from __future__ import annotations

import anyio
import anyio.to_thread
from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError

_DUMMY_PASSWORD = "not-a-real-password-0000"
MAX_CONCURRENT_HASHES = 2


class Argon2Hasher:
    def __init__(self, memory_kib: int = 19 * 1024, time_cost: int = 2, parallelism: int = 1) -> None:
        self._argon2 = _Argon2(memory_cost=memory_kib, time_cost=time_cost, parallelism=parallelism)
        self._dummy_hash = self._argon2.hash(_DUMMY_PASSWORD)
        self._turns = anyio.CapacityLimiter(MAX_CONCURRENT_HASHES)

    @property
    def running(self) -> int:
        """Hashes being computed right now (for tests and metrics)."""
        return int(self._turns.borrowed_tokens)

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._argon2.hash, password, limiter=self._turns)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Check a password; with no hash (unknown e-mail) spend the same time and say no."""
        target = password_hash or self._dummy_hash
        try:
            ok = await anyio.to_thread.run_sync(self._argon2.verify, target, password, limiter=self._turns)
        except (VerificationError, InvalidHashError):
            return False
        return bool(ok) and password_hash is not None
