"""The Sync page's "Data folder" block: the same checks as `python -m core doctor`, in plain words.

Checked at most once a minute per published snapshot (the check reads every snapshot footer and compares the
search index with the catalog by id); repairs stay on the command line, where they take the sync lock.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from core import doctor, snapshots
from core.errors import JobdashError
from ui import state


@st.cache_data(ttl=60, max_entries=8, show_spinner=False)
def _report(data_dir: str, pointer: tuple[int, int] | None) -> dict[str, Any]:
    """Keyed by the data folder and CURRENT's stat, so a new snapshot is checked at once."""
    return doctor.check(state.settings()).as_dict()


def show() -> None:
    s = state.settings()
    try:
        doc = _report(str(s.data_dir), snapshots.pointer_stat(s.snapshots_dir))
    except JobdashError as e:
        st.error(f"the data folder could not be checked: {e}")
        return
    if doc["healthy"]:
        checked = doc["checked"]
        st.success(
            "Data folder healthy: "
            + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in checked.items() if isinstance(v, int))
        )
        return
    findings = doc["findings"]
    st.warning(f"{len(findings)} problem(s) in the data folder; `python -m core doctor --repair` restores what it can")
    for f in findings:
        fix = " (repairable)" if f["repair"] else " (not repairable automatically)"
        st.text(f"• {f['what']}: {f['problem']}{fix}")
