"""Errors that name the file and the problem; the CLIs turn them into one line."""


class IngestError(Exception):
    """A file could not be ingested. str(err) is the message shown to the user."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class EmptyFileError(IngestError):
    pass


class DecodeError(IngestError):
    pass


class NoContentError(IngestError):
    pass
