"""Exceptions with messages fit to show a user as one line."""


class CardiolensError(Exception):
    """Base class: the message is a complete one-line explanation for the user."""


class TaxonomyError(CardiolensError):
    """The taxonomy file is inconsistent."""


class DatasetError(CardiolensError):
    """A dataset file cannot be read or breaks the format."""


class VolumeError(CardiolensError):
    """A NIfTI volume is missing, unreadable, too large or has the wrong shape."""
