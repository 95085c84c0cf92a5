"""The `trialscreen` command: a thin layer over the library.

Exit status: 0 all went well; 1 some input could not be used (each named on stderr); 2 usage.
No traceback ever reaches the user: unexpected errors are reported in one line.
"""

from __future__ import annotations

import importlib
import sys

import typer

from trialscreen.cli import common, screen, trials

app = typer.Typer(
    name="trialscreen",
    help="Decide, with evidence, whether patients can join a clinical trial.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
screen.register(app)
trials.register(app)

# Commands of later stages live in their own modules, each with `register(app)`.
for _name in ("population", "synth", "parse", "serve", "users"):
    try:
        _module = importlib.import_module(f"trialscreen.cli.{_name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"trialscreen.cli.{_name}":
            raise
        continue
    _module.register(app)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        common.error("interrupted")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # the last line of defence: one line, no traceback
        common.error(f"unexpected error ({type(exc).__name__}): {exc}")
        sys.exit(3)


if __name__ == "__main__":
    main()
