"""``campus-geo serve``: the review desk on a ledger, and ``campus-geo serve users ...``.

The server binds 127.0.0.1 unless told otherwise; another address needs TLS
(``--tls-cert``/``--tls-key``) or ``--plain-http`` (a LAN the user trusts),
and is refused while an active demo account (whose password was published
by ``campus-geo demo``) exists. Errors are one paragraph with exit status 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Final

import click

from campus_geo.cli.common import friendly
from campus_geo.settings import DEFAULT_LEDGER

__all__ = ["LOCAL_HOST", "check_bind", "serve"]

#: The only address served without TLS or --plain-http, and with demo accounts.
LOCAL_HOST: Final = "127.0.0.1"

_ledger_option = click.option(
    "--ledger",
    "ledger_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=DEFAULT_LEDGER,
    envvar="CAMPUS_GEO_LEDGER",
    show_default=True,
    help="The ledger file (SQLite; also from $CAMPUS_GEO_LEDGER).",
)


def check_bind(host: str, *, tls: bool, plain_http: bool, demo_users: list[str]) -> list[str]:
    """Why the desk must not listen on `host` (empty: it may).

    Examples
    --------
    >>> check_bind("127.0.0.1", tls=False, plain_http=False, demo_users=["office"])
    []
    >>> len(check_bind("0.0.0.0", tls=False, plain_http=False, demo_users=[]))
    1
    """
    problems: list[str] = []
    if host == LOCAL_HOST:
        return problems
    if not tls and not plain_http:
        problems.append(
            f"serving on {host} sends passwords over the network: give --tls-cert and "
            "--tls-key, or --plain-http to accept plain HTTP on a network you trust"
        )
    if demo_users:
        problems.append(
            f"the demo accounts {', '.join(demo_users)} have published passwords: serve them on "
            f"{LOCAL_HOST} only, or `campus-geo serve users disable` (or reset) them first"
        )
    return problems


@click.group(invoke_without_command=True)
@_ledger_option
@click.option("--host", default=LOCAL_HOST, show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--tls-cert", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--tls-key", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--plain-http", is_flag=True, help="Accept plain HTTP on an address other than 127.0.0.1."
)
@click.option(
    "--findings",
    "findings_path",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="findings.gpkg with the measured lines (default: beside the ledger).",
)
@click.option(
    "--osm",
    "osm_files",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The district's OSM file(s), as screened: the desk's full map (/map/full) then has "
    "every layer of map.html (zones, venues, basemap) for the user's cases. Repeatable.",
)
@click.option(
    "--evidence",
    "evidence_dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Folder of the evidence sheets (default: evidence/ beside the ledger).",
)
@click.pass_context
@friendly
def serve(
    ctx: click.Context,
    ledger_path: Path,
    host: str,
    port: int,
    tls_cert: Path | None,
    tls_key: Path | None,
    plain_http: bool,
    findings_path: Path | None,
    osm_files: tuple[Path, ...],
    evidence_dir: Path | None,
) -> None:
    """Serve the review desk (整改工作台) on a ledger: log in, work your cases, attach photos.

    Accounts: `campus-geo serve users add NAME --role unit --unit 区公安局`.
    """
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from campus_geo._errors import LedgerError
    from campus_geo.desk.app import create_app
    from campus_geo.desk.users import list_users

    if (tls_cert is None) != (tls_key is None):
        msg = "give both --tls-cert and --tls-key (or neither)"
        raise LedgerError(msg)
    if not ledger_path.is_file():
        msg = f"there is no ledger at {ledger_path}; `campus-geo demo --out maps/demo` makes one"
        raise LedgerError(msg)
    demo = [u.username for u in list_users(ledger_path) if u.demo and u.active]
    problems = check_bind(host, tls=tls_cert is not None, plain_http=plain_http, demo_users=demo)
    if problems:
        raise LedgerError("; ".join(problems) + "; the desk was not started")
    app = create_app(
        ledger_path,
        findings_path=findings_path,
        evidence_dir=evidence_dir,
        tls=tls_cert is not None,
        osm_files=osm_files,
    )
    scheme = "https" if tls_cert else "http"
    click.echo(f"Review desk on {scheme}://{host}:{port}/ (ledger {ledger_path}); Ctrl-C stops it.")
    uvicorn.run(
        app,
        host=host,
        port=port,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        log_level="warning",
        server_header=False,
    )


@serve.group()
def users() -> None:
    """Accounts of the desk: add, disable, reset, list."""


def _password(prompt: bool, stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=prompt))


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["office", "unit", "township", "viewer"]), required=True)
@click.option("--unit", default="", help="The unit of a unit user (e.g. 区公安局).")
@click.option("--township", default="", help="The township of a township user.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin (scripts).")
@_ledger_option
@friendly
def add(
    username: str, role: str, unit: str, township: str, password_stdin: bool, ledger_path: Path
) -> None:
    """Add an account (the password is prompted and stored as an Argon2id hash)."""
    from campus_geo.desk.users import add_user

    _require(ledger_path)
    user = add_user(
        ledger_path,
        username,
        _password(True, password_stdin),
        role=role,
        unit=unit,
        township=township,
    )
    click.echo(f"Added {user.username} ({user.role} {user.unit or user.township}).")


@users.command("disable")
@click.argument("username")
@_ledger_option
@friendly
def disable(username: str, ledger_path: Path) -> None:
    """Disable an account and end its sessions."""
    from campus_geo.desk.users import disable_user

    _require(ledger_path)
    disable_user(ledger_path, username)
    click.echo(f"Disabled {username}.")


@users.command("reset")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin (scripts).")
@_ledger_option
@friendly
def reset(username: str, password_stdin: bool, ledger_path: Path) -> None:
    """Give an account a new password (prompted); it is enabled and its sessions end."""
    from campus_geo.desk.users import reset_password

    _require(ledger_path)
    reset_password(ledger_path, username, _password(True, password_stdin))
    click.echo(f"New password set for {username}.")


@users.command("list")
@_ledger_option
@friendly
def list_(ledger_path: Path) -> None:
    """List the accounts."""
    from campus_geo.desk.users import list_users

    _require(ledger_path)
    for u in list_users(ledger_path):
        state = "active" if u.active else "disabled"
        click.echo(
            f"{u.username}\t{u.role}\t{u.unit or u.township}\t{state}{' demo' if u.demo else ''}"
        )


def _require(ledger_path: Path) -> None:
    from campus_geo._errors import LedgerError

    if not ledger_path.is_file():
        msg = f"there is no ledger at {ledger_path}; accounts are kept beside an existing ledger"
        raise LedgerError(msg)
