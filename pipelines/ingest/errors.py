"""Errors that name where bad input is: source, file, line and column."""

from __future__ import annotations


class SourceError(ValueError):
    """Input that cannot be used; the message reads ``file:line: column: problem``.

    ``line`` is 1-based and counts physical lines of the file as delivered (header included),
    so a user can open the file at that line. Unknown parts are left out of the message.
    """

    def __init__(
        self,
        file: str,
        problem: str,
        *,
        line: int | None = None,
        column: str | None = None,
    ):
        self.file, self.line, self.column, self.problem = file, line, column, problem
        where = file if line is None else f"{file}:{line}"
        super().__init__(f"{where}: {column}: {problem}" if column else f"{where}: {problem}")
