"""Normalization of raw postings: ``normalize(raw, kind, now) -> Normalized``.

See ``records`` for the step itself and the sibling modules for each field: ``markup`` (HTML →
text), ``salary``, ``location``, ``dates``, ``urls``, ``ids``, ``fields`` (employment type, seniority).
"""

from core.normalize.records import Normalized, normalize

__all__ = ["Normalized", "normalize"]
