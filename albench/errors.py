"""The base of every error albench raises on purpose, so that callers can catch them once."""


class AlbenchError(Exception):
    """An error albench reports to the user: its message names the situation and the fix."""
