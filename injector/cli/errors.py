"""The one error type the command line turns into a one-line message."""


class UserError(Exception):
    """Something the user can fix: the message says what is wrong and what to try."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code
