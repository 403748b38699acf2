"""One error type for everything a user can fix: the CLI prints its message and exits 2."""


class UserError(Exception):
    """Bad usage or bad input; the message is one line that says what to change."""
