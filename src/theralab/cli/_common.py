"""Small helpers every CLI group shares: error printing and progress bars."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import ContextDecorator
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from theralab.errors import TheralabError

console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


class _FriendlyErrors(ContextDecorator):
    """Turns a TheralabError into 'error: what (at where) Hint: ...' on stderr and exit code 2."""

    def __enter__(self) -> _FriendlyErrors:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if isinstance(exc, TheralabError):
            err_console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(2) from None
        return False


def friendly_errors(func: F | None = None) -> Any:
    """Use as ``@friendly_errors`` on a command or as ``with friendly_errors():`` around a block."""
    guard = _FriendlyErrors()
    return guard if func is None else guard(func)


class App(typer.Typer):
    """A command group whose every command reports a :class:`~theralab.errors.TheralabError` as one red
    line and exit status 2 (:func:`friendly_errors`) instead of a traceback, so that no command has to
    remember the decorator."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[F], F]:  # type: ignore[override]
        register = super().command(*args, **kwargs)

        def decorator(func: F) -> F:
            guarded: F = friendly_errors(func)
            register(guarded)
            return guarded

        return decorator


def write_json(path: Path | None, data: Any) -> None:
    """Write ``data`` as indented JSON to ``path`` (a command's ``--json-out``) when one was given."""
    if path:
        path.write_text(json.dumps(data, indent=2))


def progress_bar() -> Progress:
    """A rich progress bar with count, elapsed and remaining time."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
    )
