"""The base of every error albench raises on purpose, so that callers can catch them once."""


class AlbenchError(Exception):
    """An error albench reports to the user: its message names the situation and the fix."""


def raise_if_interrupted(exc: BaseException) -> None:
    """Raise ``KeyboardInterrupt`` if ``exc`` was caused by one. Ctrl-C or SIGTERM (which the
    CLI turns into ``KeyboardInterrupt``) landing inside a library's callback can come back
    as that library's own error: pydantic wraps it in ``PydanticSerializationError``."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            raise KeyboardInterrupt from exc
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
