"""`trialscout users`: create accounts (an admin first), list, change role, disable, delete.

Passwords are read from a prompt (hidden, asked twice) or standard input, never from the
command line, where they would sit in the shell history and the process list.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.exc import IntegrityError

from trialscout.accounts.data import delete_account
from trialscout.accounts.inputs import AccountInputError
from trialscout.accounts.service import AccountNotFound, AccountPolicy, AccountService
from trialscout.accounts.tables import ROLES
from trialscout.app import TrialScout
from trialscout.cli import app_from_context, cli, console, fail

users_cli = typer.Typer(no_args_is_help=True, help="Accounts: create, list, roles, disable, "
                        "delete.")
cli.add_typer(users_cli, name="users")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
EmailArg = Annotated[str, typer.Argument(help="The account's email address.")]


def _service(app: TrialScout) -> AccountService:
    return AccountService(app.engine, AccountPolicy.from_settings(app.settings))


def _account_id(service: AccountService, email: str) -> int:
    try:
        found = service.find(email)
    except AccountInputError as exc:
        fail(str(exc))
    if found is None:
        fail(f"no account with the address {email.strip().lower()}")
    return found


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@users_cli.command("create")
def create_command(
    ctx: typer.Context,
    email: EmailArg,
    role: Annotated[str, typer.Option("--role", help=f"One of {', '.join(ROLES)}.")] = "admin",
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from the first line of standard input.")
    ] = False,
) -> None:
    """Create a verified account (by default an admin)."""
    app = app_from_context(ctx)
    service = _service(app)
    password = _password(password_stdin)
    try:
        with app.engine.begin() as conn:
            account_id = service.create(conn, email, password, role=role, verified=True)
    except AccountInputError as exc:
        fail(str(exc))
    except IntegrityError:
        fail("an account with this address exists already")
    console.print(f"Created {role} account {account_id} for {email.strip().lower()}.",
                  highlight=False)


@users_cli.command("list")
def list_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Every account with its role and state."""
    rows = _service(app_from_context(ctx)).list()
    if as_json:
        console.print_json(json.dumps(rows))
        return
    table = Table("id", "email", "role", "verified", "disabled", "created")
    for row in rows:
        table.add_row(str(row["id"]), str(row["email"]), str(row["role"]),
                      "yes" if row["verified"] else "no", "yes" if row["disabled"] else "no",
                      str(row["created_at"]))
    console.print(table)


@users_cli.command("role")
def role_command(
    ctx: typer.Context, email: EmailArg,
    role: Annotated[str, typer.Argument(help=f"One of {', '.join(ROLES)}.")],
) -> None:
    """Change an account's role (its sessions end, so it signs in again)."""
    service = _service(app_from_context(ctx))
    try:
        service.set_role(_account_id(service, email), role)
    except (AccountInputError, AccountNotFound) as exc:
        fail(str(exc))
    console.print(f"{email.strip().lower()} is now {role}.", highlight=False)


@users_cli.command("disable")
def disable_command(
    ctx: typer.Context, email: EmailArg,
    enable: Annotated[bool, typer.Option("--enable", help="Enable it again instead.")] = False,
) -> None:
    """Disable an account: it cannot sign in, and its sessions end."""
    service = _service(app_from_context(ctx))
    service.set_disabled(_account_id(service, email), not enable)
    console.print(f"{email.strip().lower()} is {'enabled' if enable else 'disabled'}.",
                  highlight=False)


@users_cli.command("delete")
def delete_command(
    ctx: typer.Context, email: EmailArg,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete an account and every personal row it has, in one transaction."""
    app = app_from_context(ctx)
    account_id = _account_id(_service(app), email)
    if not yes and not typer.confirm(f"Delete {email.strip().lower()} and all its data?"):
        fail("nothing deleted")
    with app.engine.begin() as conn:
        delete_account(conn, account_id)
    console.print(f"Deleted {email.strip().lower()}.", highlight=False)
