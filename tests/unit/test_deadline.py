"""The request deadline: a request that has sent nothing in time answers 503 with Retry-After, JSON on /api and
the error page elsewhere; a fast request is untouched."""

from __future__ import annotations

import asyncio
from pathlib import Path

from litestar import Litestar, get
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template import TemplateConfig
from litestar.testing import AsyncTestClient

import myclothes.web
from myclothes.web.deadline import RequestDeadlineMiddleware
from myclothes.web.errors import EXCEPTION_HANDLERS, add_retry_after

TEMPLATES = Path(myclothes.web.__file__).parent / "pages" / "templates"


@get("/api/slow")
async def slow_api() -> dict[str, str]:
    await asyncio.sleep(5)
    return {"late": "yes"}


@get("/slow-page")
async def slow_page() -> str:
    await asyncio.sleep(5)
    return "late"


@get("/api/fast")
async def fast_api() -> dict[str, str]:
    return {"fast": "yes"}


def _app() -> Litestar:
    return Litestar(
        route_handlers=[slow_api, slow_page, fast_api],
        middleware=[RequestDeadlineMiddleware(0.2)],
        exception_handlers=EXCEPTION_HANDLERS,
        before_send=[add_retry_after],
        template_config=TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine),
    )


async def test_a_slow_api_request_answers_503_json_with_retry_after_by_its_deadline() -> None:
    async with AsyncTestClient(_app()) as client:
        started = asyncio.get_running_loop().time()
        response = await client.get("/api/slow")
        took = asyncio.get_running_loop().time() - started
    assert response.status_code == 503 and took < 1.0
    assert response.json()["detail"].startswith("The shop is answering too slowly")
    assert 1 <= int(response.headers["retry-after"]) <= 5


async def test_a_slow_page_answers_the_error_page() -> None:
    async with AsyncTestClient(_app()) as client:
        response = await client.get("/slow-page")
    assert response.status_code == 503 and "text/html" in response.headers["content-type"]
    assert "Temporarily unavailable" in response.text and response.headers["retry-after"]


async def test_a_fast_request_is_untouched() -> None:
    async with AsyncTestClient(_app()) as client:
        response = await client.get("/api/fast")
    assert response.status_code == 200 and response.json() == {"fast": "yes"}
    assert "retry-after" not in response.headers
