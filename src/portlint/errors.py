"""Errors a user can act on: each prints as one line and exits 2, never as a traceback."""


class PortlintError(Exception):
    """A problem with the user's input or arguments, reported as one line."""

    exit_code = 2


class SourceError(PortlintError):
    """A file that cannot be read or parsed; names the file and what is wrong."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.detail = message
