"""The `leadsync` command line.

Exit codes, the same for every command: 0 the command did its job (a sync that dead-lettered some
records still finished); 1 it could not finish (authentication, an outage beyond the retries, a
budget spent before any progress); 2 a configuration or usage error, printed as a located message
without a traceback, in one line (a bad option value: `error: --now: '2026-13-01' is not ...`;
an unknown option: `error: No such option '--bogus'. Did you mean '--verbose'? (see
`leadsync sync --help`)`).
An unexpected exception prints its traceback and exits 1. Every message and traceback has the
configured secret values masked (`config.redaction`).
"""

from __future__ import annotations

import importlib
import sys
import traceback
from collections.abc import Sequence

import click

from config.errors import UserError
from config.redaction import redact
from connectors.errors import ConnectorError

#: Each command and the module under `cli.commands` that defines it (its `register(group)` adds
#: it). A command's module is imported only when that command runs, so `leadsync run` never loads
#: the sandbox, numpy or plotly.
COMMAND_MODULES: dict[str, str] = {
    "validate": "scoring",
    "schema": "scoring",
    "score": "scoring",
    "demo": "demo",
    "sandbox": "sandbox",
    "run": "runs",
    "sync": "runs",
    "setup": "runs",
    "status": "runs",
    "retry-dead-letters": "runs",
    "doctor": "doctor",
    "explain": "tools",
    "history": "tools",
    "preview": "tools",
    "backtest": "tools",
    "calibrate": "tools",
}


class LazyGroup(click.Group):
    """A click group that imports a command's module the first time the command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(cmd_name)
        if module is None:
            return None
        if cmd_name not in self.commands:
            importlib.import_module(f"cli.commands.{module}").register(self)
        return self.commands.get(cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="leadsync")
def cli() -> None:
    """leadsync: score CRM leads for fit and interest and write the scores back."""


def _where(exc: click.BadParameter) -> str:
    """The option or argument a bad value was given to (`--now`)."""
    hint = exc.param_hint
    if hint is None and exc.param is not None:
        hint = exc.param.opts[:1] or [str(exc.param.name)]
    if hint is None:
        return "value"
    return hint if isinstance(hint, str) else " / ".join(hint)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and turn errors into messages and exit codes."""
    try:
        result = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="leadsync",
            standalone_mode=False,
        )
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.MissingParameter as exc:
        # Its message is empty; click composes "Missing option '--model'." itself.
        click.echo(f"error: {exc.format_message()}", err=True)
        return 2
    except click.BadParameter as exc:
        click.echo(f"error: {_where(exc)}: {exc.message}", err=True)
        return 2
    except click.UsageError as exc:
        # one line like every other error, with where to read about the command
        help_hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
        click.echo(redact(f"error: {exc.format_message()}{help_hint}"), err=True)
        return 2
    except click.ClickException as exc:
        exc.show()
        return int(exc.exit_code)
    except UserError as exc:
        click.echo(redact(f"error: {exc}"), err=True)
        return 2
    except ConnectorError as exc:
        click.echo(redact(f"error: {type(exc).__name__}: {exc}"), err=True)
        return 1
    except Exception:
        # a defect: the traceback helps a report, and must not carry a token into it
        click.echo(redact(traceback.format_exc()).rstrip("\n"), err=True)
        return 1
    if isinstance(result, int):
        return result
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
