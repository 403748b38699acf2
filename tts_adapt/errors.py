"""One error type for everything a user can fix: the CLI prints its message and exits 2."""


class UserError(Exception):
    """Bad usage or bad input; the message is one line that says what to change.

    Messages quote what the user gave (file content, YAML parser reports), which may hold line
    breaks: they are folded here, once, so every message stays one line.
    """

    def __init__(self, message: object = "") -> None:
        lines = [line.strip() for line in str(message).splitlines()]
        super().__init__(" ".join(line for line in lines if line) if len(lines) > 1 else str(message))
