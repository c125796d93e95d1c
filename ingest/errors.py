"""The project's errors, and those that name the file and the problem.

    BulletinError            str(err) is a one-line message for the user
     ├─ UsageError           a bad flag or setting (also a ValueError)
     ├─ IngestError          a file could not be ingested (path, reason) and its kinds below
     ├─ IndexProblem         index/store.py: IndexMissingError, IndexMismatchError,
     │                       IndexDamagedError, IndexWriteError; index/lock.py: IndexBusyError
     └─ EmbedderError        index/embedders.py

They live here, at the bottom layer, so that every layer can raise them; the entry points
turn them into one line "错误 / error: …" and an exit status (ingest/cli_errors.py).
"""


class BulletinError(Exception):
    """Base of the project's errors; str(err) is a one-line message for the user."""


class UsageError(BulletinError, ValueError):
    """A bad command-line flag, setting or value (exit status 2). A ValueError too, so
    callers that catch ValueError (the web chat's filters) still do."""


class IngestError(BulletinError):
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


class FileTooLargeError(IngestError):
    pass


class DamagedFileError(IngestError):
    """Truncated or corrupt PDF/DOCX, or a file whose content is not what its name says."""


class EncryptedFileError(IngestError):
    pass


class NeedsOcrError(IngestError):
    """A PDF without a text layer (a scan): its words are pictures."""
