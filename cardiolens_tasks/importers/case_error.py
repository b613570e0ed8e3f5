"""The one error type of a case import."""


class CaseError(Exception):
    """A case that cannot be imported; the message is the reason."""
