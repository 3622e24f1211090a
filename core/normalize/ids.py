"""Stable job ids: the same posting gets the same id on every run."""

from __future__ import annotations

import hashlib
from typing import Any

import pyarrow as pa

from core.normalize.text import as_array


def job_id(kind: str, native_id: str | None, canonical_url: str | None) -> str | None:
    """First 16 hex digits of md5("<kind>:<native_id>"), else of md5("url:<canonical url>")."""
    if native_id is not None:
        key = f"{kind}:{native_id}"
    elif canonical_url is not None:
        key = f"url:{canonical_url}"
    else:
        return None
    return hashlib.md5(key.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]


def job_id_column(kind: str, native_ids: Any, canonical_urls: Any) -> Any:
    """``job_id`` for every row (null only where both inputs are null)."""
    natives = as_array(native_ids).to_pylist()
    urls = as_array(canonical_urls).to_pylist()
    return pa.array([job_id(kind, n, u) for n, u in zip(natives, urls, strict=True)], pa.string())
