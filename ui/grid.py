"""The single AgGrid call site: a window of ~100 rows from DuckDB, with sort and header filters round-tripped.

The grid never holds the catalog. It gets one keyset page; when the user sorts or filters in a header, the
grid returns only its sort model, filter model and selected ids (a custom return, never the rows), and the
next run maps them to ``Sort`` / ``ColumnFilter`` and asks DuckDB for the matching page. Client-side sorting
is neutralised (a comparator that keeps the server's order) so the rows appear exactly as DuckDB sorted them.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, replace
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import streamlit as st
from st_aggrid import DataReturnMode, JsCode
from st_aggrid.aggrid_utils import walk_gridOptions
from st_aggrid.shared import StAggridTheme

from core.catalog import Page
from core.instrumentation import metrics
from core.query import RELEVANCE, ColumnFilter, JobFilter, Sort
from ui import keys, state
from ui.cache import View

log = logging.getLogger(__name__)
PAGE_SIZE = 100
GRID_HEIGHT = 520
ROW_BUFFER = 3  # rows rendered beyond the visible ones (AG Grid's default is 10)
TIME_FORMAT = "%Y-%m-%d %H:%M"
# Header filters requery after this pause in typing; Enter applies at once (APPLY_ON_ENTER). A rerun is a
# fragment run (~10–40 ms on the server) and a newer one cancels a running one, so a short pause is cheap.
FILTER_DEBOUNCE_MS = 100
# streamlit-aggrid's component, called directly: its AgGrid() wrapper turns the rows into pandas, hashes the
# frame with pd.util.hash_pandas_object (~17 ms for 100 rows on this machine, more than the query) and only
# then hands the frame to Streamlit, which turns it back into Arrow. We pass the Arrow table itself and a
# data_hash of our own (the page's key: it changes exactly when the rows do).
_COMPONENT = importlib.import_module("st_aggrid.AgGrid")._component_func


@dataclass(frozen=True)
class GridColumn:
    field: str  # a page column
    header: str
    kind: str  # text | number | time | bool | link
    width: int = 140
    sortable: bool = True
    filterable: bool = True
    hide: bool = False


COLUMNS: tuple[GridColumn, ...] = (
    GridColumn("starred", "★", "bool", width=64, filterable=False),
    GridColumn("stage", "Stage", "text", width=120),
    GridColumn("title", "Title", "text", width=260),
    GridColumn("company", "Company", "text", width=180),
    GridColumn("location", "Location", "text", width=180),
    GridColumn("workplace_type", "Workplace", "text", width=120),
    GridColumn("seniority", "Seniority", "text", width=110),
    GridColumn("employment_type", "Type", "text", width=110),
    GridColumn("salary_annual_min", "Salary from", "number", width=120),
    GridColumn("salary_annual_max", "Salary to", "number", width=120),
    GridColumn("salary_currency", "Cur.", "text", width=80),
    GridColumn("posted_at", "Posted", "time", width=150),
    GridColumn("first_seen_at", "First seen", "time", width=150),
    GridColumn("delisted_at", "Closed", "time", width=150),  # empty while listed; kept jobs show the date
    GridColumn("source", "Source", "text", width=110),
    GridColumn("url", "Posting", "link", width=90, sortable=False, filterable=False),
    GridColumn("dup_count", "Postings", "number", width=90, sortable=False, filterable=False),  # collapsed view only
    GridColumn("job_id", "Job id", "text", hide=True),
)
BY_FIELD = {c.field: c for c in COLUMNS}

# AG Grid filter option → ColumnFilter op. One condition per column (filters are ANDed across columns).
TEXT_OPTIONS = {"contains": "contains", "equals": "equals", "notEqual": "not_equal", "startsWith": "starts_with",
                "blank": "blank", "notBlank": "not_blank"}  # fmt: skip
NUMBER_OPTIONS = {"equals": "equals", "notEqual": "not_equal", "lessThan": "lt", "lessThanOrEqual": "lte",
                  "greaterThan": "gt", "greaterThanOrEqual": "gte", "inRange": "in_range", "blank": "blank",
                  "notBlank": "not_blank"}  # fmt: skip
DATE_OPTIONS = {"equals": "equals", "notEqual": "not_equal", "lessThan": "lt", "greaterThan": "gt",
                "inRange": "in_range", "blank": "blank", "notBlank": "not_blank"}  # fmt: skip

# The grid's answer to Streamlit: the models and the selected ids, never rows.
RETURN_MODEL = JsCode("""
function(params) {
  const api = params.eventData.api;
  const sort = api.getColumnState()
    .filter(c => c.sort)
    .sort((a, b) => (a.sortIndex || 0) - (b.sortIndex || 0))
    .map(c => ({colId: c.colId, sort: c.sort}));
  return {
    event: params.streamlitRerunEventTriggerName,
    sort: sort,
    filter: api.getFilterModel() || {},
    selected: api.getSelectedRows().map(r => r.job_id),
  };
}
""")
# AG Grid 34's floating filter debounces Enter like any key (its syncUpWithParentFilter runs after debounceMs):
# measured 120 ms from Enter to the grid's event at a 100 ms debounce. On Enter in a text or number floating
# filter this hands the input's value to the column's filter at once, with the call AG Grid itself makes after
# the pause; the debounced call that follows finds the model unchanged and fires no second filterChanged.
APPLY_ON_ENTER = JsCode("""
function(event) {
  const api = event.api;
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || !e.target || !e.target.closest) { return; }
    const cell = e.target.closest('.ag-floating-filter');
    if (!cell) { return; }
    const header = document.querySelector(
      ".ag-header-cell[aria-colindex='" + cell.getAttribute('aria-colindex') + "']");
    const colId = header && header.getAttribute('col-id');
    const col = colId && api.getColumn(colId);
    const kind = col && col.getColDef().filter;
    if (kind !== 'agTextColumnFilter' && kind !== 'agNumberColumnFilter') { return; }
    // The condition's type: the applied one, else the column's first option (our lists start with the default).
    const model = api.getColumnFilterModel(colId);
    const type = (model && model.type) || ((col.getColDef().filterParams || {}).filterOptions || [null])[0];
    const value = e.target.value;
    Promise.resolve(api.getColumnFilterInstance(colId)).then((f) => {
      if (f && f.onFloatingFilterChanged) { f.onFloatingFilterChanged(type, value || null); }
    });
  }, true);
}
""")
KEEP_SERVER_ORDER = JsCode("function(a, b) { return 0; }")
ROW_ID = JsCode("function(params) { return params.data.job_id; }")
# Compare the 'YYYY-MM-DD hh:mm' text of a cell with the filter's date (day precision, like DuckDB's filter).
DATE_COMPARATOR = JsCode("""
function(filterDate, cellValue) {
  if (!cellValue) { return -1; }
  const d = new Date(cellValue.slice(0, 10) + 'T00:00:00');
  const f = new Date(filterDate.getFullYear(), filterDate.getMonth(), filterDate.getDate());
  return d < f ? -1 : (d > f ? 1 : 0);
}
""")
# Only http(s) links become anchors: a posting's URL is untrusted input.
LINK_RENDERER = JsCode("""
class LinkRenderer {
  init(params) {
    const v = params.value || '';
    if (/^https?:\\/\\//i.test(v)) {
      this.eGui = document.createElement('a');
      this.eGui.href = v;
      this.eGui.target = '_blank';
      this.eGui.rel = 'noopener noreferrer';
      this.eGui.textContent = 'open ↗';
    } else {
      this.eGui = document.createElement('span');
    }
  }
  getGui() { return this.eGui; }
}
""")
STAR_FORMATTER = JsCode("function(p) { return p.value ? '★' : ''; }")
NUMBER_FORMATTER = JsCode("function(p) { return p.value == null ? '' : Math.round(p.value).toLocaleString('en-US'); }")


# --- the grid's model ↔ core query objects -------------------------------------------------------------


def sort_from_model(model: list[dict[str, Any]] | None) -> Sort:
    """The grid's sort model (first sorted column wins) as a Sort; the default order when nothing is sorted."""
    for item in model or []:
        col = BY_FIELD.get(str(item.get("colId")))
        if col and col.sortable and item.get("sort") in ("asc", "desc"):
            return Sort(col.field, desc=item["sort"] == "desc")
    return Sort()


def _condition(field: str, kind: str, cond: dict[str, Any]) -> ColumnFilter | None:
    ftype = cond.get("type")
    if kind == "text":
        op = TEXT_OPTIONS.get(str(ftype))
        value = cond.get("filter")
        if op is None or (op not in ("blank", "not_blank") and (value is None or str(value) == "")):
            return None
        return ColumnFilter(field, op, None if op in ("blank", "not_blank") else str(value))
    if kind == "number":
        op = NUMBER_OPTIONS.get(str(ftype))
        if op is None:
            return None
        if op in ("blank", "not_blank"):
            return ColumnFilter(field, op)
        value, value_to = cond.get("filter"), cond.get("filterTo")
        if value is None or (op == "in_range" and value_to is None):
            return None
        upper = float(value_to) if op == "in_range" and value_to is not None else None
        return ColumnFilter(field, op, float(value), upper)
    if kind == "time":
        op = DATE_OPTIONS.get(str(ftype))
        if op is None:
            return None
        if op in ("blank", "not_blank"):
            return ColumnFilter(field, op)
        value, value_to = cond.get("dateFrom"), cond.get("dateTo")
        if not value or (op == "in_range" and not value_to):
            return None
        return ColumnFilter(field, op, str(value)[:10], str(value_to)[:10] if op == "in_range" else None)
    return None


def filters_from_model(model: dict[str, Any] | None) -> tuple[ColumnFilter, ...]:
    """The grid's filter model as ColumnFilters. Incomplete conditions (a half-typed range) are skipped;
    a combined model (two conditions) keeps only an AND of both."""
    out: list[ColumnFilter] = []
    for field, spec in sorted((model or {}).items()):
        col = BY_FIELD.get(field)
        if col is None or not col.filterable or not isinstance(spec, dict):
            continue
        conds: list[Any] = list(spec.get("conditions") or []) if "conditions" in spec else [spec]
        if spec.get("operator") == "OR" and len(conds) > 1:
            conds = conds[:1]  # the grid is configured for one condition; never widen silently into AND
        for cond in conds:
            cf = _condition(field, col.kind, cond)
            if cf is not None:
                out.append(cf)
    return tuple(out)


# --- state: which window to show -----------------------------------------------------------------------


def _absorb_grid_value() -> None:
    """Copy what the grid last returned into the keys the query reads (the grid's value is the truth)."""
    value = st.session_state.get(keys.GRID)
    raw = getattr(value, "raw_data", value)
    if isinstance(raw, dict) and "sort" in raw:
        st.session_state[keys.GRID_MODEL] = {"sort": raw.get("sort") or [], "filter": raw.get("filter") or {}}
        st.session_state[keys.GRID_SELECTED] = [str(j) for j in raw.get("selected") or []]


def model() -> dict[str, Any]:
    _absorb_grid_value()
    return st.session_state.get(keys.GRID_MODEL) or {"sort": [], "filter": {}}


def selected() -> list[str]:
    return list(st.session_state.get(keys.GRID_SELECTED) or [])


def view(flt: JobFilter) -> View:
    """The window to query: sidebar filter + header filters, the header sort, and the keyset position."""
    m = model()
    sort = sort_from_model(m.get("sort"))
    if flt.desc.strip() and st.session_state.get(keys.F_BEST_MATCH):  # "Best match" (sidebar) over the header sort
        sort = Sort(RELEVANCE)
    full = replace(flt, column_filters=flt.column_filters + filters_from_model(m.get("filter")))
    signature = f"{state.filter_key(full)}|{state.sort_key(sort)}"
    pos = st.session_state.get(keys.PAGE_CURSOR)
    if not pos or pos.get("signature") != signature:
        pos = {"signature": signature, "cursor": None, "direction": "next", "page_no": 1}
        st.session_state[keys.PAGE_CURSOR] = pos
    return View(full, sort, pos["cursor"], pos["direction"], pos["page_no"], PAGE_SIZE)


def _move(step: str) -> None:
    pos = st.session_state.get(keys.PAGE_CURSOR)
    edges = st.session_state.get(keys.PAGE_CURSOR + "_edges")
    if not pos or not edges:
        return
    if step == "first":
        pos.update(cursor=None, direction="next", page_no=1)
    elif step == "next" and edges["last"] is not None:
        pos.update(cursor=edges["last"], direction="next", page_no=pos["page_no"] + 1)
    elif step == "prev" and edges["first"] is not None:
        if pos["page_no"] <= 2:
            pos.update(cursor=None, direction="next", page_no=1)
        else:
            pos.update(cursor=edges["first"], direction="prev", page_no=pos["page_no"] - 1)
    st.session_state[keys.PAGE_CURSOR] = pos


# --- rendering ----------------------------------------------------------------------------------------


def frame(rows: pa.Table) -> pa.Table:
    """The page as the grid shows it: display columns only, timestamps as text (formatted in Arrow, no pandas)."""
    cols = []
    names = []
    for c in COLUMNS:
        if c.field not in rows.column_names:
            continue
        col = rows.column(c.field)
        if c.kind == "time":
            col = pc.strftime(col, format=TIME_FORMAT) if rows.num_rows else col.cast(pa.string())
        elif pa.types.is_dictionary(col.type):
            col = col.cast(pa.string())
        cols.append(col)
        names.append(c.field)
    return pa.Table.from_arrays(cols, names=names)


def _column_def(c: GridColumn) -> dict[str, Any]:
    d: dict[str, Any] = {
        "field": c.field,
        "headerName": c.header,
        "width": c.width,
        "sortable": c.sortable,
        "hide": c.hide,
        "comparator": KEEP_SERVER_ORDER,
    }
    if not c.filterable:
        d["filter"] = False
    elif c.kind == "text":
        d["filter"] = "agTextColumnFilter"
        d["filterParams"] = {
            "filterOptions": list(TEXT_OPTIONS),
            "maxNumConditions": 1,
            "debounceMs": FILTER_DEBOUNCE_MS,
        }
    elif c.kind == "number":
        d["filter"] = "agNumberColumnFilter"
        d["filterParams"] = {
            "filterOptions": list(NUMBER_OPTIONS),
            "maxNumConditions": 1,
            "debounceMs": FILTER_DEBOUNCE_MS,
        }
        d["valueFormatter"] = NUMBER_FORMATTER
    elif c.kind == "time":
        d["filter"] = "agDateColumnFilter"
        d["filterParams"] = {"filterOptions": list(DATE_OPTIONS), "maxNumConditions": 1, "comparator": DATE_COMPARATOR}
    if c.kind == "bool":
        d["valueFormatter"] = STAR_FORMATTER
        d["cellStyle"] = {"color": "#d4a017", "fontSize": "16px"}
    if c.kind == "link":
        d["cellRenderer"] = LINK_RENDERER
    return d


def grid_options(m: dict[str, Any], selected_ids: list[str], fields: list[str]) -> dict[str, Any]:
    sort_model = [{"colId": s["colId"], "sort": s["sort"]} for s in m.get("sort") or [] if s.get("colId") in BY_FIELD]
    initial: dict[str, Any] = {}
    if sort_model:
        initial["sort"] = {"sortModel": sort_model}
    if m.get("filter"):
        initial["filter"] = {"filterModel": m["filter"]}
    if selected_ids:
        initial["rowSelection"] = selected_ids
    opts: dict[str, Any] = {
        "columnDefs": [_column_def(c) for c in COLUMNS if c.field in fields],
        "defaultColDef": {
            "resizable": True,
            "floatingFilter": True,
            "suppressHeaderMenuButton": True,
            "cellDataType": False,  # no inference: dates stay text for our comparator, booleans use our formatter
        },
        "rowSelection": {"mode": "multiRow", "checkboxes": True, "headerCheckbox": True, "enableClickSelection": True},
        "getRowId": ROW_ID,
        "onGridReady": APPLY_ON_ENTER,
        "suppressMultiSort": True,
        "animateRows": False,
        # A page swap re-creates every rendered cell. Render only what is on screen (columns and rows, plus a
        # few rows for scrolling), and synchronously: AG Grid otherwise spreads cell creation over animation
        # frames, which delays the new rows by frames.
        "rowBuffer": ROW_BUFFER,
        "suppressAnimationFrame": True,
        "rowHeight": 32,
        "overlayNoRowsTemplate": "No jobs match these filters",
    }
    if initial:
        opts["initialState"] = initial
    return opts


_THEME = StAggridTheme(None)
_THEME["themeName"] = "streamlit"
_OPTIONS: dict[tuple[str, ...], dict[str, Any]] = {}  # the live grid's options per column set, JsCode as text


def _live_options(fields: tuple[str, ...]) -> dict[str, Any]:
    """The options of a mounted grid: built once per column set (a rerun then only swaps rowData)."""
    if fields not in _OPTIONS:
        _OPTIONS[fields] = _as_text(grid_options({}, [], list(fields)))
    return _OPTIONS[fields]


def _as_text(options: dict[str, Any]) -> dict[str, Any]:
    walk_gridOptions(options, lambda v: v.js_code if isinstance(v, JsCode) else v)
    return options


def render(rows: pa.Table, options: dict[str, Any], data_hash: str) -> Any:
    """streamlit-aggrid's component with the same arguments its AgGrid() wrapper sends, minus the pandas
    round trip: ``rows`` go to Streamlit as Arrow; ``data_hash`` tells the grid when to swap its rows."""
    return _COMPONENT(
        data=rows,
        data_hash=data_hash,
        gridOptions=options,
        height=GRID_HEIGHT,
        data_return_mode=DataReturnMode.CUSTOM,
        frame_dtypes="",
        allow_unsafe_jscode=True,
        columns_state=None,
        custom_css={},
        default=None,
        enable_enterprise_modules=False,
        key=keys.GRID,
        license_key=None,
        manual_update=False,
        on_change=None,
        pro_assets=None,
        show_download_button=False,
        show_search=False,
        show_toolbar=False,
        custom_jscode_for_grid_return=RETURN_MODEL.js_code,
        should_grid_return=None,
        theme=_THEME,
        debug=False,
        update_on=["sortChanged", "filterChanged", "selectionChanged"],
        use_json_serialization=False,
        server_sync_strategy="client_wins",
    )


def show(page: Page, v: View, data_key: str = "", page_name: str = "Jobs") -> list[str]:
    """Render the window, the count and the pager; return the selected job ids.

    ``data_key`` names the rows' content (the view's key + snapshot version + user-data revision): the grid
    swaps its rows only when it changes. Each part is timed as a block of ``page_name``'s run."""
    with metrics.timed_block(page_name, "payload"):
        first = (v.page_no - 1) * v.limit + 1 if page.rows.num_rows else 0
        last = first + page.rows.num_rows - 1 if page.rows.num_rows else 0
        st.session_state[keys.PAGE_CURSOR + "_edges"] = {"first": page.first_key, "last": page.last_key}
        m = model()
        chosen = selected()
        table = frame(page.rows)
        # Restore sort/filter/selection only when the grid mounts (no value from it yet). Once it is live the
        # options stay constant, so a rerun only swaps rowData instead of rebuilding every column.
        mounted = st.session_state.get(keys.GRID) is not None
        fields = tuple(table.column_names)
        options = _live_options(fields) if mounted else _as_text(grid_options(m, chosen, list(fields)))
        data_hash = data_key or f"{v.key()}|{page.total}|{page.first_key!r}|{page.last_key!r}"
    with metrics.timed_block(page_name, "grid"):
        st.markdown(
            f"**{page.total:,}** jobs match · showing {first:,}–{max(last, 0):,} (page {v.page_no})"
            f" · query {page.elapsed_ms:,.0f} ms"
        )
        render(table, options, data_hash)
    with metrics.timed_block(page_name, "pager"):
        a, b, c, _ = st.columns([1, 1, 1, 5])
        a.button("« First", key=keys.PAGE_FIRST, on_click=_move, args=("first",), disabled=v.page_no <= 1)
        b.button("◀ Previous", key=keys.PAGE_PREV, on_click=_move, args=("prev",), disabled=not page.has_prev)
        c.button("Next ▶", key=keys.PAGE_NEXT, on_click=_move, args=("next",), disabled=not page.has_next)
    return chosen
