"""`python -m tests.sync.cli_runner COMMAND ...`: the `leadsync` CLI with only the sync commands.

Subprocess tests (signals, kill -9, two processes) start through this instead of `cli.main`,
whose full command set imports the model tools' scientific stack and takes seconds to start.
Errors map to exit codes exactly as `cli.main.main` does.
"""

from __future__ import annotations

import sys

import click

from cli.commands import runs as commands
from config.errors import UserError
from connectors.errors import ConnectorError


@click.group()
def cli() -> None:
    """leadsync (sync commands only)."""


commands.register(cli)


def main(argv: list[str]) -> int:
    try:
        result = cli.main(args=argv, standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return 2 if isinstance(exc, click.UsageError) else int(exc.exit_code)
    except UserError as exc:
        click.echo(f"error: {exc}", err=True)
        return 2
    except ConnectorError as exc:
        click.echo(f"error: {type(exc).__name__}: {exc}", err=True)
        return 1
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
