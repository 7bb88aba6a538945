"""The app factory: one Litestar app per process, with the shop built in its lifespan."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Tag
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from myclothes.domain.catalog import format_price
from myclothes.settings import Settings
from myclothes.web.api import api_router
from myclothes.web.contract import exact_allow, refuse_nul
from myclothes.web.csrf import NO_CSRF_COOKIE, RotatingCSRFMiddleware, csrf_config
from myclothes.web.deadline import RequestDeadlineMiddleware
from myclothes.web.deps import DEPENDENCIES
from myclothes.web.edge import Edge
from myclothes.web.errors import EXCEPTION_HANDLERS, add_retry_after
from myclothes.web.fastlane import FastLane
from myclothes.web.health import Readiness, healthz, probes_for, readyz, readyz_write
from myclothes.web.observability import metrics
from myclothes.web.pages import page_handlers
from myclothes.web.pages.fragments import LineFragments
from myclothes.web.requestlog import configure_logging
from myclothes.web.security import parse_networks
from myclothes.web.session import SessionMiddleware

PAGES = Path(__file__).parent / "pages"


class StoreApp(Litestar):
    """The Litestar app, with what every HTTP answer gets done in one pass around it (``web/edge.py``)."""

    edge: Edge
    fast_lane: FastLane

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await self.edge(scope, receive, send, self.fast_lane.route(scope) or super().__call__)
        else:
            await super().__call__(scope, receive, send)


def _template_setup(engine: JinjaTemplateEngine) -> None:
    """Templates ship with the code: no ``stat`` of the file on every render (3% of the HTML cart page). ``price``
    is also a filter: a filter is a plain call, a function in the context goes through ``Context.call`` (a cart
    page's lines use the filter). ``cart_line`` renders a cart line once per distinct line (``pages/fragments.py``)."""
    engine.engine.auto_reload = False
    engine.engine.filters["price"] = format_price
    engine.engine.globals["cart_line"] = LineFragments(engine.engine)


def create_app(settings: Settings | None = None) -> StoreApp:
    """Build the web app for ``settings`` (read from the environment when omitted)."""
    from myclothes.bootstrap import build_shop  # the composition root; the web tier never picks adapters

    settings = (settings or Settings.from_env()).with_secret_keys()
    shop = build_shop(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state["shop"] = shop
        app.state["readiness"] = Readiness(probes_for(shop))
        app.state["trusted_proxies"] = parse_networks(settings.trusted_proxies)
        if gc.get_freeze_count() == 0:  # a server runs one app per process; a test process runs many
            gc.collect()
            gc.freeze()  # startup's objects live as long as the process: no collection walks them again (p99)
        try:
            yield
        finally:
            await shop.close()

    configure_logging()
    docs: list[OpenAPIRenderPlugin] = [JsonRenderPlugin()]  # /schema/openapi.json, always
    if settings.api_docs:
        docs.append(SwaggerRenderPlugin())
    deadline = RequestDeadlineMiddleware(settings.request_deadline_s)
    app = StoreApp(
        route_handlers=[
            api_router,
            *page_handlers,
            healthz,
            readyz,
            readyz_write,
            metrics,
            create_static_files_router(
                path="/static", directories=[PAGES / "static"], include_in_schema=False, opt=NO_CSRF_COOKIE
            ),
        ],
        lifespan=[lifespan],
        before_request=refuse_nul,  # the pages; /api states its rules in its document (web/api/__init__.py)
        dependencies=DEPENDENCIES,
        middleware=[
            deadline,
            SessionMiddleware(shop.sessions, shop.client_state, settings.cookie_secure),
            DefineMiddleware(
                RotatingCSRFMiddleware,
                config=csrf_config(settings.secret_keys, settings.cookie_secure),
                secrets=settings.secret_keys,
            ),
        ],
        before_send=[
            add_retry_after,
            exact_allow,
        ],
        logging_config=None,  # configure_logging: JSON lines, with the request id
        template_config=TemplateConfig(
            directory=PAGES / "templates",
            engine=JinjaTemplateEngine,
            engine_callback=_template_setup,
        ),
        openapi_config=OpenAPIConfig(
            title="MyClothes",
            version="0.1.0",
            path="/schema",
            render_plugins=docs,
            tags=[
                Tag(
                    name="health",
                    description=(
                        "`/healthz`: the process is up (liveness). `/readyz`: it can serve reads, some database "
                        "endpoint answers (what load balancers check; never the primary, cart store or cache "
                        "alone). `/readyz/write`: the database primary and the cart store take writes. Both "
                        "`/readyz` answers report every dependency and `can_write`, 200 or 503."
                    ),
                )
            ],
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        state=None,
        debug=False,
    )
    app.edge = Edge(settings)
    app.fast_lane = FastLane(shop, deadline)
    app.fast_lane.full = super(StoreApp, app).__call__  # Litestar itself, past the fast lane
    return app
