"""Request ids made by a web process: 32 hex digits, unique per process, also after a fork."""

from __future__ import annotations

import os
import re

from myclothes.web.requestlog import new_request_id


def test_request_ids_are_32_hex_digits_and_a_forked_worker_makes_its_own() -> None:
    first, second = new_request_id(), new_request_id()
    assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second and first[:16] == second[:16]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: one id, then out at once
        os.write(write, new_request_id().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    os.close(write)
    assert re.fullmatch(r"[0-9a-f]{32}", child) and child[:16] != first[:16]
