"""``chatcore serve | migrate | create-admin | admin ... | purge`` (SPEC §3). Bad configuration: exit 2.

What a command needs is imported by that command. ``serve`` is the process that supervises the
workers: it checks the secret key and the database in a short-lived child process and imports
nothing but uvicorn itself, so it stays small (the workers import the application and the
database layer themselves).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import multiprocessing
import sys
from collections.abc import Sequence
from multiprocessing.connection import Connection

from app_http.admin_cli import add_admin_parser
from app_http.logs import configure_logging
from app_http.metric_files import multiprocess_dir, remove_multiprocess_dir
from app_http.settings import ConfigError, Settings

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chatcore", description="English practice chat service")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the HTTP server (CHATCORE_HOST, CHATCORE_PORT, CHATCORE_WORKERS)")
    sub.add_parser("migrate", help="upgrade CHATCORE_DATABASE_URL to the newest schema")
    admin = sub.add_parser(
        "create-admin", help="make an existing user an administrator, or create an administrator account"
    )
    admin.add_argument("username")
    admin.add_argument("--email", help="e-mail address (optional: an administrator may have none)")
    admin.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    sub.add_parser(
        "purge",
        help="delete expired refresh tokens, old idempotency records and login failures now "
        "(the server also does it every hour)",
    )
    add_admin_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        configure_logging(production=settings.production)
        if args.command == "serve":
            return serve(settings)
        if args.command == "migrate":
            from app_http.bootstrap import prepare_database

            asyncio.run(prepare_database(settings, upgrade=True))
            print("Database is up to date.")
            return 0
        if args.command == "purge":
            return asyncio.run(purge(settings))
        if args.command == "admin":
            return asyncio.run(admin(settings, args))
        return asyncio.run(create_admin(settings, args.username, args.email, args.password_stdin))
    except ConfigError as exc:
        print(f"chatcore: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG


def serve(settings: Settings) -> int:
    """Run the server: uvicorn, with ``CHATCORE_WORKERS`` processes (docs/performance.md says why)."""
    import uvicorn

    prepare_apart()
    print(
        f"chatcore: serving on http://{settings.host}:{settings.port} with {settings.workers} worker(s)",
        file=sys.stderr,
    )
    # Before any worker starts: each writes its metrics there, /metrics on any of them reads all.
    metrics_dir = multiprocess_dir()
    try:
        uvicorn.run(
            "app_http.asgi:create",
            factory=True,
            interface="asgi3",
            host=settings.host,
            port=settings.port,
            workers=settings.workers,  # more than one: a supervisor that restarts a worker that dies
            loop="uvloop",
            # httptools, behind a deadline and a size limit for request heads (app_http.serving).
            http="app_http.serving:GuardedHttpProtocol",
            ws="none",
            lifespan="on",
            # The client's address is the peer's; app_http.client_address trusts forwarded
            # headers only from CHATCORE_TRUSTED_PROXIES.
            proxy_headers=False,
            server_header=False,
            access_log=False,
            log_config=None,  # the app configures logging (app_http.logs)
            log_level="warning",
            timeout_graceful_shutdown=10,
        )
    finally:
        remove_multiprocess_dir(metrics_dir)
    return 0


def prepare_in_child(report: Connection) -> None:
    """In the child: the secret key and the database; sends back ``None`` or the error's text."""
    from app_http.bootstrap import prepare_database, resolve_secret_key

    try:
        settings = Settings.from_env()
        resolve_secret_key(settings)
        asyncio.run(prepare_database(settings, upgrade=settings.embedded_database))
    except ConfigError as exc:
        report.send(str(exc))
    else:
        report.send(None)
    finally:
        report.close()


def prepare_apart() -> None:
    """Make the secret key and check (or, embedded, create) the database, in a forked child: this
    process then forks the workers without the database layer or Alembic in its memory. Raises
    ``ConfigError`` with the child's reason, or when the child died without one."""
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=prepare_in_child, args=(sending,), name="chatcore-prepare")
    child.start()
    sending.close()
    try:
        reason = receiving.recv()
    except EOFError:  # the child ended without a word: killed, or crashed (its traceback is above)
        child.join()
        raise ConfigError(
            f"Preparing the database stopped unexpectedly (exit code {child.exitcode})."
        ) from None
    finally:
        receiving.close()
    child.join()
    if reason is not None:
        raise ConfigError(reason)


async def create_admin(settings: Settings, username: str, email: str | None, from_stdin: bool) -> int:
    """Make ``username`` an administrator: an existing user is promoted (its password stays), else
    a new account is created with the password from the prompt or standard input."""
    from app_http.bootstrap import build_container, prepare_database
    from chatcore.admin import SHELL
    from chatcore.errors import ChatcoreError, UserNotFound

    await prepare_database(settings, upgrade=settings.embedded_database)
    container = build_container(settings)
    try:
        try:
            existing = await container.admin.find_user(SHELL, username)
        except UserNotFound:
            existing = None
        if existing is not None and existing.username.casefold() == username.strip().casefold():
            promoted = (await container.admin.set_role(SHELL, existing.id, is_admin=True)).user
            print(f"{promoted.username!r} (id {promoted.id}) is now an administrator.")
            return 0
        password, password2 = _new_password(from_stdin)
        user = await container.accounts.register(
            username=username, email=email, password=password, password2=password2
        )
        # Promoted as a second step, so that the audit trail records it like any promotion (if
        # it failed, running the command again promotes the account it made).
        await container.admin.set_role(SHELL, user.id, is_admin=True)
    except ChatcoreError as exc:
        print(f"chatcore: {exc.detail}", file=sys.stderr)
        return 1
    finally:
        await container.aclose()
    print(f"Administrator {user.username!r} created (id {user.id}).")
    return 0


def _new_password(from_stdin: bool) -> tuple[str, str]:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
        return password, password
    return getpass.getpass("Password: "), getpass.getpass("Password (again): ")


async def admin(settings: Settings, args: argparse.Namespace) -> int:
    from app_http.admin_cli import run_admin
    from app_http.bootstrap import build_container, prepare_database

    await prepare_database(settings, upgrade=settings.embedded_database)
    container = build_container(settings)
    try:
        return await run_admin(args, container.admin)
    finally:
        await container.aclose()


async def purge(settings: Settings) -> int:
    from app_http.bootstrap import build_container, prepare_database

    await prepare_database(settings, upgrade=settings.embedded_database)
    container = build_container(settings)
    try:
        purged = await container.housekeeping.run()
    finally:
        await container.aclose()
    print(
        f"Deleted {purged.refresh_tokens} expired refresh token(s) and "
        f"{purged.idempotency_records} old idempotency record(s)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
