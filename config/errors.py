"""User-facing errors: things a user can fix in a file or an option. The CLI exits 2 on them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One located problem in a user's file: `file:line:column key.path: message`."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        key = f" {self.path}" if self.path else ""
        return f"{where}{key}: {self.message}"


class UserError(Exception):
    """An error the user caused and can fix; printed without a traceback, exit status 2."""


class ProblemsError(UserError):
    """Every problem found in a file, collected before failing."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
