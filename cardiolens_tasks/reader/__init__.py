"""The reference reader: an offline image-analysis model that answers from the prompt alone.

It sees exactly what a model sees (the request's text and images) and nothing else: no
labels, no sample metadata, no dataset files, no render cache. :func:`answer_parts` is the
one entry point; the Inspect provider ``cardiolens/reader`` and ``cardiolens serve-reader``
only convert their messages into parts.
"""

from cardiolens.reader.reader import answer_parts

__all__ = ["answer_parts"]
