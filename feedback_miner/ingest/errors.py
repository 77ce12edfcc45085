"""The one error type of the ingest stage."""


class InputError(Exception):
    """A user mistake that stops the run (unreadable file, missing column); one line, no traceback."""
