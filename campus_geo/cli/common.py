"""What every ``campus-geo`` command shares: campus_geo errors become exit status 2."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from campus_geo._errors import CampusGeoError

__all__ = ["friendly"]

F = TypeVar("F", bound=Callable[..., Any])


def friendly(func: F) -> F:
    """Turn campus_geo errors into exit status 2 with their message, never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        debug = bool(ctx.find_root().params.get("debug"))
        try:
            return func(*args, **kwargs)
        except click.ClickException:
            raise  # usage errors: click prints them and exits with 2
        except CampusGeoError as exc:
            if debug:
                raise
            click.echo(f"campus-geo: error: {exc}", err=True)
            sys.exit(2)
        except Exception as exc:
            if debug:
                raise
            click.echo(
                f"campus-geo: internal error: {type(exc).__name__}: {exc}. "
                "Run again with --debug for the traceback and report it with the input files.",
                err=True,
            )
            sys.exit(1)

    return wrapper  # type: ignore[return-value]
