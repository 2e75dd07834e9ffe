"""What every ``campus-geo`` command shares: campus_geo errors become exit status 2."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from campus_geo._errors import CampusGeoError, InputDataError

__all__ = ["WarningSummary", "check_out", "friendly"]

F = TypeVar("F", bound=Callable[..., Any])
#: Warnings repeated at the end of a run; a file of thousands of fixed rows lists the first.
_MAX_REPEATED = 50


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
            # the fix in the command line's own terms (--coords, --id-field), not Python's
            message = exc.cli_message if isinstance(exc, InputDataError) else str(exc)
            click.echo(f"campus-geo: error: {message}", err=True)
            sys.exit(2)
        except OSError as exc:  # the system refused a file: a disk full, read-only, no access
            if debug:
                raise
            where = f" {exc.filename}" if exc.filename else ""
            click.echo(
                f"campus-geo: error: cannot read or write{where}: {exc.strerror or exc}; check "
                "the path, its permissions and the free space",
                err=True,
            )
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


def check_out(out: Path, option: str = "--out") -> None:
    """Refuse an output folder that cannot be written, before any work is done.

    Nothing is created here: the folder is made when the first output is written.

    Raises
    ------
    InputDataError
        `out` names an existing file, or lies below a file, or in a folder
        this user may not write to.
    """
    if out.exists() and not out.is_dir():
        msg = f"{option} {out} is an existing file, not a folder; give a folder for the outputs"
        raise InputDataError(msg)
    parent = out.absolute()
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        msg = (
            f"{option} {out}: {parent} is a file, so no folder can be made below it; give a folder"
        )
        raise InputDataError(msg)
    if not os.access(parent, os.W_OK | os.X_OK):
        msg = f"{option} {out}: no permission to write in {parent}; give a folder you may write to"
        raise InputDataError(msg)


class WarningSummary(logging.Handler):
    """Collect the warnings of a run and repeat them at its end under a heading.

    Every data warning (:func:`campus_geo._errors.warn_data`: a coordinate
    system assumed or fixed, rows rejected) is a WARNING record of the
    ``campus_geo`` logger. A warning in the middle of progress output is easy
    to miss: :meth:`echo` repeats each (once) after the command's summary.
    """

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the message of `record` (each text once, in order)."""
        message = record.getMessage()
        if message not in self.messages:
            self.messages.append(message)

    def echo(self) -> None:
        """Print the warnings under a heading (nothing when there were none)."""
        if self.messages:
            shown = self.messages[:_MAX_REPEATED]
            lines = [f"Warnings ({len(self.messages)}):", *(f"  - {m}" for m in shown)]
            if len(self.messages) > len(shown):
                lines.append(f"  ... and {len(self.messages) - len(shown)} more in the log above")
            click.echo("\n".join(lines))
