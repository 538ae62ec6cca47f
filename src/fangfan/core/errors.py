"""Errors a user can act on: their message is Chinese and safe to show."""


class DomainError(Exception):
    """A rule of the domain refused the action; the message says why, in Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ValidationFailed(DomainError):
    """Input failed validation: ``problems`` lists every problem found (file, row, column, value, why)."""

    def __init__(self, message: str, problems: list | None = None):
        super().__init__(message)
        self.problems = problems or []


class Conflict(DomainError):
    """The object's state does not allow the action now (wrong step, already done, changed meanwhile): the API
    answers 409; the message says what is missing, in Chinese."""
