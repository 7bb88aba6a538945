"""The stores' commands to the Redis primary on one multiplexed connection per process: the commands of every
request in flight share one socket, written in order, their replies matched in order.

Why: through redis-py's pool a command costs this process far more than Redis takes to run it. On the bench, a
cart write whose one ``EVALSHA`` was answered from memory instead cost 129 us of CPU instead of 225 us: the pool's
checkout and release (a lock and four observability hooks each), a ``StreamReader`` read, an ``asyncio.wait_for``
task for the send and a timer for the reply, per command. Here a command is packed by hiredis and written to the
transport, and a future waits for its reply, which ``data_received`` sets as hiredis parses what arrived; the
commands that concurrent requests send in one turn of the event loop leave in one write.

What stays redis-py's: where the connection goes (the client's host and port, or the primary that Sentinel names
when the connection opens, asked through the client's own ``SentinelConnectionPool``), the credentials and the
database number (the client's connection settings), and the exception classes (``failover_in_progress`` and the
stores' retry judge these errors as they judge redis-py's). Everything else the client does (the cache, the
replica reads, a write that must reach a replica) still goes through redis-py.

Faults, as the stores' retry policy expects them (``redisconn.RedisCalls``):
- opening: TCP connect within ``CONNECT_TIMEOUT_S``, then AUTH (or PING) and SELECT answered within
  ``SOCKET_TIMEOUT_S`` before any command is sent; a failure is a ``ConnectionError`` for
  every command that waited for it, and the next command tries again;
- a reply not back within ``SOCKET_TIMEOUT_S`` of its command (a partitioned or frozen primary; checked every
  ``SWEEP_S`` while commands are in flight): the connection is dropped and every command in flight fails with
  redis-py's ``TimeoutError``, as redis-py's socket timeout did;
- the connection lost: every command in flight fails with ``ConnectionError``; the next one opens a new connection;
- ``READONLY`` (a demoted primary): that reply is the command's error, and no command is sent on that connection
  again, so the next one opens a connection to whichever primary Sentinel names then;
- a caller cancelled while its command is in flight (the request deadline): its reply is read and dropped, and the
  connection stays in step.

Not for blocking commands (``WAIT``, ``BLPOP``): they would hold every command behind them.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import hiredis
from redis._parsers.base import BaseParser
from redis.asyncio import Redis
from redis.asyncio.connection import ConnectionPool
from redis.asyncio.sentinel import SentinelConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

SOCKET_TIMEOUT_S = 0.5  # a command's reply, as the stores' redis-py clients wait for one
CONNECT_TIMEOUT_S = 0.15
SWEEP_S = 0.05  # how often commands in flight are checked against SOCKET_TIMEOUT_S


class _ErrorReply(Exception):
    """What hiredis makes of an error reply; turned into redis-py's exception for it."""


def error_for(reply: str) -> RedisError:
    """The exception redis-py raises for an error reply: its parser's own mapping (``NOSCRIPT``, ``READONLY``,
    ``LOADING``... to their classes, a leading ``ERR`` taken off the message), so the stores read both alike."""
    return BaseParser.parse_error(reply)


class _Link(asyncio.Protocol):
    """One connection: commands written in order, each reply handed to the oldest command still waiting."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.reader = hiredis.Reader(replyError=_ErrorReply)
        self.waiting: deque[tuple[asyncio.Future[Any], float]] = deque()
        self.transport: asyncio.Transport | None = None
        self.out: list[bytes] = []
        self.broken: RedisError | None = None  # why no command may be sent on it any more
        self.retired = False  # a demoted primary answered: commands in flight finish, no new ones

    @property
    def usable(self) -> bool:
        return self.broken is None and not self.retired

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, packed: bytes) -> asyncio.Future[Any]:
        future = self.loop.create_future()
        if self.broken is not None:  # lost between its opening and this command
            future.set_exception(type(self.broken)(*self.broken.args))
            return future
        self.waiting.append((future, self.loop.time()))
        if not self.out:
            self.loop.call_soon(self._flush)
        self.out.append(packed)
        return future

    def _flush(self) -> None:
        out, self.out = self.out, []
        if self.broken is None and self.transport is not None:
            self.transport.write(out[0] if len(out) == 1 else b"".join(out))

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while True:
            try:
                reply = self.reader.gets()
            except hiredis.ProtocolError as error:
                self.fail(RedisConnectionError(f"Redis sent what is not its protocol: {error}"))
                return
            if reply is False:
                break
            if not self.waiting:
                self.fail(RedisConnectionError("Redis sent a reply no command was waiting for"))
                return
            future, _ = self.waiting.popleft()
            if isinstance(reply, _ErrorReply):
                refused = error_for(str(reply))
                if isinstance(refused, ReadOnlyError):
                    self.retired = True
                if not future.done():
                    future.set_exception(refused)
            elif not future.done():
                future.set_result(reply)
        if self.retired and not self.waiting:
            self.fail(RedisConnectionError("Redis is no longer the primary"))

    def connection_lost(self, exc: Exception | None) -> None:
        reason = f": {exc}" if exc is not None else ""
        self.fail(RedisConnectionError(f"Connection to Redis lost{reason}"), close=False)

    def overdue(self, now: float) -> bool:
        return bool(self.waiting) and self.waiting[0][1] + SOCKET_TIMEOUT_S <= now

    def fail(self, error: RedisError, close: bool = True) -> None:
        """No more commands on this connection: every command in flight fails with (a copy of) ``error``."""
        if self.broken is None:
            self.broken = error
        while self.waiting:
            future, _ = self.waiting.popleft()
            if not future.done():
                future.set_exception(type(error)(*error.args))
        if close and self.transport is not None:
            self.transport.abort()


class Channel:
    """The multiplexed connection of one client: opened on the first command and after a fault, never pooled."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool
        self._link: _Link | None = None
        self._opening: asyncio.Future[_Link] | None = None
        self._retired: list[_Link] = []  # replaced while commands were still in flight on them
        self._sweeping = False
        self._closed = False

    async def call(self, *args: Any) -> Any:
        """One command, its raw reply (RESP2: a hash's fields as a flat list); redis-py's exceptions."""
        link = self._link
        if link is None or not link.usable:
            link = await self._open()
        future = link.send(hiredis.pack_command(args))
        if not self._sweeping:
            self._sweeping = True
            link.loop.call_later(SWEEP_S, self._sweep)
        return await future

    def _sweep(self) -> None:
        """Fail what waited too long, on this connection and on a retired one still finishing its commands."""
        links = [link for link in (self._link, *self._retired) if link is not None]
        for link in links:
            if link.overdue(link.loop.time()):
                link.fail(RedisTimeoutError(f"Timeout reading from Redis: no reply within {SOCKET_TIMEOUT_S:g} s"))
        self._retired = [link for link in self._retired if link.waiting]
        busy = [link for link in links if link.waiting]
        if busy:
            busy[0].loop.call_later(SWEEP_S, self._sweep)
        else:
            self._sweeping = False

    async def _open(self) -> _Link:
        if self._closed:
            raise RedisConnectionError("the Redis client is closed")
        if self._opening is None:
            opening = asyncio.ensure_future(self._connect())
            opening.add_done_callback(self._opened)
            self._opening = opening
        return await asyncio.shield(self._opening)

    def _opened(self, opening: asyncio.Future[_Link]) -> None:
        self._opening = None
        if not opening.cancelled() and opening.exception() is None:
            replaced, self._link = self._link, opening.result()
            if replaced is not None and replaced.waiting:  # retired (a demoted primary): still swept till done
                self._retired.append(replaced)

    async def _connect(self) -> _Link:
        settings = self.pool.connection_kwargs
        if isinstance(self.pool, SentinelConnectionPool):
            host, port = await self.pool.get_master_address()
        else:
            host, port = settings.get("host", "localhost"), settings.get("port", 6379)
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                _, link = await loop.create_connection(lambda: _Link(loop), host, port)
        except (OSError, TimeoutError) as error:
            raise RedisConnectionError(f"Error connecting to Redis at {host}:{port}: {error or 'timed out'}") from None
        # A server that accepts is not yet one that answers (a frozen one's kernel accepts for it): nothing is sent
        # before it has answered the connection's setup, at least a PING, as redis-py's handshake waits too.
        hello: list[tuple[Any, ...]] = [("PING",)]
        if settings.get("password"):
            user = settings.get("username")
            hello[0] = ("AUTH", user, settings["password"]) if user else ("AUTH", settings["password"])
        if settings.get("db"):
            hello.append(("SELECT", settings["db"]))
        try:
            async with asyncio.timeout(SOCKET_TIMEOUT_S):
                for args in hello:
                    await link.send(hiredis.pack_command(args))
        except TimeoutError:
            link.fail(RedisConnectionError("setup timed out"))
            raise RedisTimeoutError(f"Redis at {host}:{port} did not answer the connection's setup") from None
        except RedisError as error:
            link.fail(RedisConnectionError("setup refused"))
            raise RedisConnectionError(f"Redis at {host}:{port} refused the connection's setup: {error}") from None
        except BaseException:
            link.fail(RedisConnectionError("setup cancelled"))
            raise
        if self._closed:
            link.fail(RedisConnectionError("the Redis client is closed"))
        return link

    def reset(self) -> None:
        """Drop the connection (commands in flight fail): the next command opens one, to whichever primary
        Sentinel names then."""
        if self._link is not None:
            self._link.fail(RedisConnectionError("the connection was reset"))
            self._link = None

    def close(self) -> None:
        self._closed = True
        for link in self._retired:
            link.fail(RedisConnectionError("the Redis client is closed"))
        self._retired = []
        if self._link is not None:
            self._link.fail(RedisConnectionError("the Redis client is closed"))
            self._link = None


class MultiplexedRedis(Redis):
    """A redis-py client whose stores' commands (``redisconn.command``) go through its ``Channel``."""

    _channel: Channel | None = None

    @property
    def channel(self) -> Channel:
        if self._channel is None:
            self._channel = Channel(self.connection_pool)
        return self._channel

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        if self._channel is not None:
            self._channel.close()
        await super().aclose(close_connection_pool)
