"""The API against its own OpenAPI document: schemathesis fuzzes every operation, with every check and its stateful
phase, as an anonymous shopper, a customer and an admin, on SQLite and on PostgreSQL. Zero failures.

The fuzzer's output (log, JUnit, NDJSON events) is kept in ``test-artifacts/fuzz/`` per database and role.
``MYCLOTHES_FUZZ_MAX_EXAMPLES`` / ``MYCLOTHES_FUZZ_MAX_TIME`` widen a run (CI keeps the defaults: a bounded run).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from myclothes.client.cookies import CSRF_HEADER, cookie_header
from tests.conftest import artifacts_dir
from tests.fuzz.conftest import ROLES, signed_in
from tests.support.server import ShopServer

MAX_EXAMPLES = os.environ.get("MYCLOTHES_FUZZ_MAX_EXAMPLES", "10")
MAX_TIME = os.environ.get("MYCLOTHES_FUZZ_MAX_TIME", "25")
# Operations that end or replace the signed-in session (or need its password) are fuzzed anonymously only: as a
# customer or admin they would turn the rest of the run into an anonymous one.
SESSION_CHANGING = r"^/api/(auth/|account/password$)"


def run_fuzzer(server: ShopServer, role: str, report: Path) -> subprocess.CompletedProcess[str]:
    shopper = signed_in(server, role)
    cookies = cookie_header(shopper.http.cookies)
    shopper.close()
    report.mkdir(parents=True, exist_ok=True)
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(Path(__file__).with_name("schemathesis.toml")),
        "run",
        f"{server.url}/schema/openapi.json",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        MAX_EXAMPLES,
        "--max-time",
        MAX_TIME,
        "--seed",
        "11",
        "--workers",
        "1",
        "--header",
        f"Cookie: {cookies}",
        "--header",
        f"{CSRF_HEADER}: {shopper.csrf}",
        "--report",
        "junit,ndjson",
        "--report-dir",
        str(report),
        "--output-truncate",
        "false",
        "--warnings",
        "off",
    ]
    if role != "anonymous":
        command += ["--exclude-path-regex", SESSION_CHANGING]
    result = subprocess.run(  # in the report directory: schemathesis keeps its cache in the working directory
        command, capture_output=True, text=True, timeout=600, env={**os.environ, "NO_COLOR": "1"}, cwd=report
    )
    (report / "schemathesis.log").write_text(result.stdout + result.stderr)
    return result


@pytest.mark.parametrize("role", ROLES)
def test_the_api_keeps_its_openapi_contract(fuzzed_server: ShopServer, role: str) -> None:
    database = fuzzed_server.database  # type: ignore[attr-defined]
    report = artifacts_dir() / "fuzz" / f"{database}-{role}"
    result = run_fuzzer(fuzzed_server, role, report)
    summary = result.stdout[result.stdout.rfind("SUMMARY") :] if "SUMMARY" in result.stdout else result.stdout[-3000:]
    assert result.returncode == 0, f"{database} as {role}: see {report}/schemathesis.log\n{summary}"
