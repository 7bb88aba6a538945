"""The ``myclothes`` command: serve the store, migrate and seed the database, create admins."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Sequence

from myclothes.settings import Settings, SettingsError


def _settings() -> Settings:
    return Settings.from_env().with_secret_keys()


async def _prepare(settings: Settings, products: int | None) -> int:
    """Migrate, then seed the catalog up to ``products`` (or the default on an empty catalog)."""
    from myclothes.db.engine import SqlDatabase
    from myclothes.db.migrate import upgrade
    from myclothes.db.seed import seed_catalog

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)
    database = SqlDatabase(settings.effective_database_url)
    try:
        return await seed_catalog(database, products if products is not None else settings.seed_products)
    finally:
        await database.dispose()


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from myclothes.web.server import CoalescingHttpToolsProtocol

    settings = _settings()
    added = asyncio.run(_prepare(settings, None))
    if added:
        print(f"seeded {added} products", file=sys.stderr)
    print(f"MyClothes on http://{args.host}:{args.port} (cart store: {settings.cart_store})", file=sys.stderr)
    uvicorn.run(
        "myclothes.web.app:create_app",
        factory=True,
        http=CoalescingHttpToolsProtocol,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=False,
        access_log=False,
        log_level="info",
    )
    return 0


def cmd_db_upgrade(_args: argparse.Namespace) -> int:
    from myclothes.db.migrate import upgrade

    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)
    print("database is at the newest schema")
    return 0


def cmd_db_seed(args: argparse.Namespace) -> int:
    added = asyncio.run(_prepare(_settings(), args.products))
    print(f"added {added} products (catalog now holds at least {args.products} seeded products)")
    return 0


async def _create_admin(settings: Settings, email: str, password: str, name: str) -> str:
    from myclothes.bootstrap import build_shop

    await _prepare(settings, None)
    shop = build_shop(settings)
    try:
        customer = await shop.accounts.create_admin(email, password, name)
    finally:
        await shop.close()
    return customer.email


def cmd_admin_create_user(args: argparse.Namespace) -> int:
    password = args.password
    if password is None:
        if not sys.stdin.isatty():
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("Password for the admin (at least 10 characters): ")
    email = asyncio.run(_create_admin(_settings(), args.email, password, args.name or args.email.split("@")[0]))
    print(f"admin {email} is ready")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="myclothes", description="MyClothes online clothing store")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the store (migrates and seeds on first start)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)

    db = commands.add_parser("db", help="database maintenance").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="migrate to the newest schema").set_defaults(func=cmd_db_upgrade)
    seed = db.add_parser("seed", help="fill the catalog with generated products")
    seed.add_argument("--products", type=int, default=120)
    seed.set_defaults(func=cmd_db_seed)

    admin = commands.add_parser("admin", help="administration").add_subparsers(dest="admin_command", required=True)
    create = admin.add_parser("create-user", help="create an admin (or make an account admin)")
    create.add_argument("email")
    create.add_argument("--name")
    create.add_argument("--password", help="default: prompt (or one line on standard input)")
    create.set_defaults(func=cmd_admin_create_user)
    from myclothes.bench.command import add_parser as add_bench
    from myclothes.cluster.command import add_parser as add_cluster

    add_bench(commands)
    add_cluster(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SettingsError as error:
        print(f"myclothes: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        from myclothes.domain.errors import ShopError

        if isinstance(error, ShopError):
            print(f"myclothes: {error}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
