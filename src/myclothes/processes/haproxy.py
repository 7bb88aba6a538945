"""HAProxy in front of web processes: the public frontend and the checked, bounded web backend.

Web processes are checked on ``/readyz``, which fails only for reasons of the process itself (it cannot reach any
database endpoint), never because a shared primary is failing over: so losing a primary never empties the pool. A
refused or timed-out connection marks a web server down at once (``observe layer4``) and the request is retried on
another server (``redispatch 1``); ``timeout connect`` is short because a healthy backend next to the balancer
accepts in well under a millisecond, and a partitioned one never does.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

# Requests a web process works on at once; the rest wait in HAProxy's queue (first come, first served, to whichever
# process frees a slot first) for at most ``timeout queue``. Bounded concurrency keeps a busy process's latency flat
# instead of letting every request in it slow down together, and a shopper who gave up is dropped from the queue
# (``abortonclose``) instead of being served to nobody.
WEB_MAXCONN = 24
WEB_CHECKS = (
    f"maxconn {WEB_MAXCONN} inter 500ms fastinter 250ms downinter 500ms fall 2 rise 2"
    " observe layer4 error-limit 1 on-error mark-down"
)


# A shopper's GET is answered in milliseconds (the store bounds its own reads well under this; p99 under a zone
# failover ~0.5 s): one that has had no answer for this long was sent to a process that is gone or cut off.
GET_SERVER_TIMEOUT = "2s"


def balancer_config(
    admin_socket: Path, bind: str, servers: Mapping[str, str], sticky: bool, disabled: Collection[str] = ()
) -> str:
    """``global``, ``defaults``, the ``shop`` frontend on ``bind`` and the ``web`` backend; more sections (``listen``)
    may be appended to the text.

    ``servers`` maps each web process's name to its ``address:port``; the ``disabled`` ones are slots filled later
    through the admin socket. ``sticky`` pins each shopper to one web process with a ``SERVERID`` cookie (only the
    memory cart store needs it).
    """
    lines = []
    for name, address in servers.items():
        line = f"  server {name} {address} check"
        if sticky:
            line += f" cookie {name}"
        if name in disabled:
            line += " disabled"
        lines.append(line)
    stickiness = "  cookie SERVERID insert indirect nocache httponly\n" if sticky else ""
    return f"""global
  maxconn 4096
  stats socket {admin_socket} level admin

defaults
  mode http
  timeout connect 250ms
  timeout client 30s
  timeout server 15s
  timeout queue 2s
  retries 3
  option redispatch 1
  option abortonclose

frontend shop
  bind {bind}
  option forwardfor
  # Every request gets an id (client address and port, frontend, time, pid; hex), replacing any the client sent;
  # the web process returns it in X-Request-ID and logs it, so one id finds the request's log lines.
  unique-id-format %{{+X}}o%ci:%cp_%fi:%fp_%Ts_%rt:%pid
  http-request set-header X-Request-ID %[unique-id]
  http-request deny deny_status 404 if {{ path /metrics }} || {{ path_beg /metrics/ }}
  default_backend web

backend web
  balance roundrobin
  # A GET sent to a process that dies before answering (a kill) or goes silent (its zone cut off: no answer, no
  # reset) is sent again to another process, after GET_SERVER_TIMEOUT for the silent one; requests that change
  # something are not replayed here (a cart add could count twice; checkout retries are the client's, with its
  # Idempotency-Key) and keep the long server timeout.
  http-request set-timeout server {GET_SERVER_TIMEOUT} if METH_GET
  retry-on conn-failure empty-response response-timeout
  http-request disable-l7-retry unless METH_GET
  # A request sent on a reused idle connection to a partitioned web process vanishes (no connect to time out, so no
  # redispatch) and the shopper waits for its own timeout; on a new connection it costs at most timeout connect.
  http-reuse never
  option httpchk GET /readyz
  http-check expect status 200
  default-server {WEB_CHECKS}
{stickiness}{chr(10).join(lines)}
"""
