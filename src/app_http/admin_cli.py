"""``chatcore admin users|limit|deactivate|reactivate|role|delete|stats|audit`` (SPEC §3, §4.6).

The same use cases as ``/admin``, from a shell on the server. Whoever can run them there is
trusted as the machine's operator: actions are recorded in the audit trail as
``(command line)``, or, with ``--as USERNAME``, as that administrator (who must be an active
one, and is then held to the same rules as on the API). Exit codes: 0 done, 1 refused (one
line on stderr says why), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from chatcore.admin import SHELL, AdminService, Operator
from chatcore.errors import ChatcoreError, ValidationFailed
from chatcore.model import AuditEntry, UserOverview

EXIT_REFUSED = 1
EXIT_USAGE = 2


def add_admin_parser(sub: Any) -> None:
    """The ``admin`` command and its subcommands, on the ``chatcore`` parser's subparsers."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--as",
        dest="actor",
        metavar="USERNAME",
        help="act as this administrator in the audit trail (default: the command line)",
    )
    common.add_argument("--json", action="store_true", help="print JSON for scripts")
    admin = sub.add_parser("admin", help="administration from a shell on the server (users, limits, stats)")
    commands = admin.add_subparsers(dest="admin_command", required=True)
    users = commands.add_parser("users", parents=[common], help="list users, newest first")
    users.add_argument("--q", help="part of a username or e-mail (any case)")
    users.add_argument("--limit", type=int, default=50, help="how many (1-200, default 50)")
    limit = commands.add_parser("limit", parents=[common], help="set a user's daily limit")
    limit.add_argument("user", help="username or id")
    value = limit.add_mutually_exclusive_group(required=True)
    value.add_argument("value", nargs="?", type=int, help="requests per day, 0-10000")
    value.add_argument("--default", action="store_true", help="return the user to the default limit")
    for name, what in (
        ("deactivate", "deactivate a user (ends their sessions)"),
        ("reactivate", "reactivate a user"),
    ):
        commands.add_parser(name, parents=[common], help=what).add_argument("user", help="username or id")
    role = commands.add_parser("role", parents=[common], help="make a user an administrator or not")
    role.add_argument("user", help="username or id")
    role.add_argument(
        "--admin", action=argparse.BooleanOptionalAction, required=True, help="administrator or not"
    )
    remove = commands.add_parser("delete", parents=[common], help="delete a user and everything of theirs")
    remove.add_argument("user", help="username or id")
    remove.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")
    stats = commands.add_parser("stats", parents=[common], help="usage per quota day")
    stats.add_argument("--days", type=int, default=30, help="how many days back (1-366, default 30)")
    audit = commands.add_parser("audit", parents=[common], help="the audit trail, newest first")
    audit.add_argument("--limit", type=int, default=50, help="how many (1-200, default 50)")


async def run_admin(args: argparse.Namespace, admin: AdminService) -> int:
    """Run one ``chatcore admin`` subcommand; returns the exit code."""
    try:
        by = SHELL if args.actor is None else Operator((await admin.find_user(SHELL, args.actor)).id)
        return await _run(args, admin, by)
    except ValidationFailed as exc:
        print(f"chatcore: {exc.detail}", file=sys.stderr)
        return EXIT_USAGE
    except ChatcoreError as exc:
        print(f"chatcore: {exc.detail}", file=sys.stderr)
        return EXIT_REFUSED


async def _run(args: argparse.Namespace, admin: AdminService, by: Operator) -> int:
    command = args.admin_command
    if command == "users":
        page = await admin.list_users(by, query=args.q, limit=args.limit)
        _print_users(list(page.items), as_json=args.json)
        return 0
    if command == "stats":
        days = await admin.stats(by, days=args.days)
        rows = [
            {
                "day": d.day.isoformat(),
                "requests": d.requests,
                "refused": d.refused,
                "failed": sum(d.failed_by_code.values()),
                "failed_by_code": dict(d.failed_by_code),
                "active_users": d.active_users,
                "new_users": d.new_users,
            }
            for d in days
        ]
        if args.json:
            print(json.dumps({"days": rows}))
        else:
            columns = ("day", "requests", "refused", "failed", "active_users", "new_users")
            _table([{k: r[k] for k in columns} for r in rows], columns)
        return 0
    if command == "audit":
        entries = list((await admin.audit(by, limit=args.limit)).items)
        _print_audit(entries, as_json=args.json)
        return 0
    target = await admin.find_user(by, args.user)
    if command == "delete":
        if not args.yes:
            print(
                f"chatcore: deleting {target.username!r} cannot be undone: add --yes to confirm.",
                file=sys.stderr,
            )
            return EXIT_REFUSED
        await admin.delete_user(by, target.id)
        _done(args, {"deleted": target.username}, f"Deleted {target.username!r} (id {target.id}).")
        return 0
    if command == "limit":
        changed = await admin.set_daily_limit(by, target.id, None if args.default else args.value)
    elif command == "deactivate":
        changed = await admin.deactivate(by, target.id)
    elif command == "reactivate":
        changed = await admin.reactivate(by, target.id)
    else:
        changed = await admin.set_role(by, target.id, is_admin=args.admin)
    _print_users([changed], as_json=args.json)
    return 0


def _done(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    print(json.dumps(data) if args.json else text)


def _user_row(o: UserOverview) -> dict[str, Any]:
    u = o.user
    return {
        "id": u.id,
        "username": u.username,
        "email": u.email,
        "date_joined": u.date_joined.isoformat(),
        "is_admin": u.is_admin,
        "is_active": u.is_active,
        "daily_limit": u.daily_limit,
        "used_today": o.used_today,
        "last_active_at": None if o.last_active_at is None else o.last_active_at.isoformat(),
        "providers": [p.value for p in o.providers],
    }


def _print_users(users: list[UserOverview], *, as_json: bool) -> None:
    rows = [_user_row(o) for o in users]
    if as_json:
        print(json.dumps({"items": rows}))
        return
    for row in rows:
        row["daily_limit"] = "default" if row["daily_limit"] is None else row["daily_limit"]
        row["providers"] = ",".join(row["providers"]) or "-"
        row["date_joined"] = row["date_joined"][:10]
        row["last_active_at"] = (row["last_active_at"] or "-")[:16]
    columns = (
        "id",
        "username",
        "email",
        "is_admin",
        "is_active",
        "daily_limit",
        "used_today",
        "last_active_at",
    )
    _table(rows, (*columns, "providers"))


def _print_audit(entries: list[AuditEntry], *, as_json: bool) -> None:
    rows: list[dict[str, Any]] = [
        {
            "id": e.id,
            "at": e.at.isoformat(),
            "admin": e.admin_name,
            "action": e.action,
            "target_user": e.target_name,
            "before": None if e.before is None else dict(e.before),
            "after": None if e.after is None else dict(e.after),
        }
        for e in entries
    ]
    if as_json:
        print(json.dumps({"items": rows}))
        return
    for row in rows:
        row["at"] = row["at"][:19]
        row["before"] = json.dumps(row["before"])
        row["after"] = json.dumps(row["after"])
    _table(rows, ("id", "at", "admin", "action", "target_user", "before", "after"))


def _table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    cells = [[("-" if row[c] is None else str(row[c])) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
