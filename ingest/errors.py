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


class FileTooLargeError(IngestError):
    pass


class DamagedFileError(IngestError):
    """Truncated or corrupt PDF/DOCX, or a file whose content is not what its name says."""


class EncryptedFileError(IngestError):
    pass


class NeedsOcrError(IngestError):
    """A PDF without a text layer (a scan): its words are pictures."""
