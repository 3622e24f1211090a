"""Every widget key and session-state key of the dashboard, in one place (AppTest finds widgets by these)."""

# --- sidebar filters (shared by the Jobs and Analytics pages) -----------------------------------------
F_TEXT = "f_text"
F_DESC = "f_desc"
F_POSTED = "f_posted"  # date_input range
F_SEEN = "f_seen"
F_SALARY_MIN = "f_salary_min"
F_SALARY_MAX = "f_salary_max"
F_CURRENCY = "f_currency"
F_SALARY_KNOWN = "f_salary_known"
F_WORKPLACE = "f_workplace"
F_LOCATION = "f_location"
F_COUNTRIES = "f_countries"
F_COMPANIES = "f_companies"
F_SOURCES = "f_sources"
F_TYPES = "f_types"
F_SENIORITIES = "f_seniorities"
F_STAGES = "f_stages"
F_STARRED = "f_starred"
F_PIPELINE = "f_pipeline"
F_LISTING = "f_listing"
F_HIDDEN = "f_hidden"
F_COLLAPSE = "f_collapse"
F_RESET = "f_reset"
F_BEST_MATCH = "f_best_match"  # checkbox under the description search: sort by relevance (not part of a JobFilter)
F_WATCH = "f_watch"  # session state, not a widget: the watch whose unseen matches are shown (JobFilter.watch_unseen)

FILTER_KEYS = (
    F_TEXT, F_DESC, F_POSTED, F_SEEN, F_SALARY_MIN, F_SALARY_MAX, F_CURRENCY, F_SALARY_KNOWN, F_WORKPLACE,
    F_LOCATION, F_COUNTRIES, F_COMPANIES, F_SOURCES, F_TYPES, F_SENIORITIES, F_STAGES, F_STARRED, F_PIPELINE, F_LISTING,
    F_HIDDEN, F_COLLAPSE,
)  # fmt: skip

# --- saved views --------------------------------------------------------------------------------------
VIEW_PICK = "view_pick"
VIEW_LOAD = "view_load"
VIEW_NAME = "view_name"
VIEW_SAVE = "view_save"
VIEW_DELETE = "view_delete"

# --- watches (ui/watches_view.py) -----------------------------------------------------------------------
WATCH_OPEN = "watch_open_"  # + watch id: the sidebar button "<view> · N new"
WATCH_SEEN = "watch_seen"
WATCH_CLOSE = "watch_close"
WATCH_MSG = "watch_msg"  # session state: the last watch action's message
WATCH_FORM = "watch_form"
WATCH_VIEW = "watch_view"
WATCH_DESTS = "watch_dests"
WATCH_RELISTED = "watch_relisted"
WATCH_MIN = "watch_min"
WATCH_QUIET = "watch_quiet"
WATCH_PAUSED = "watch_paused"


def watch_key(prefix: str, watch_id: int) -> str:
    return f"{prefix}{watch_id}"


# --- the grid -----------------------------------------------------------------------------------------
GRID = "grid"  # the AgGrid component; its value is the sort/filter/selection model the grid returns
GRID_MODEL = "grid_model"  # the parsed model the query uses: {"sort": [...], "filter": {...}}
GRID_SELECTED = "grid_selected"  # job ids selected in the grid
PAGE_CURSOR = "page_cursor"  # (signature, cursor, direction, page number)
PAGE_PREV = "page_prev"
PAGE_NEXT = "page_next"
PAGE_FIRST = "page_first"

# --- detail panel and bulk actions --------------------------------------------------------------------
D_STARRED = "d_starred"
D_STAGE = "d_stage"
D_NOTES = "d_notes"
D_FOLLOW_UP = "d_follow_up"
D_HIDDEN = "d_hidden"
D_DUP_LINK = "d_dup_link_"  # + index: the link of each other board of a duplicate
BULK_STAR = "bulk_star"
BULK_UNSTAR = "bulk_unstar"
BULK_STAGE = "bulk_stage"
BULK_STAGE_APPLY = "bulk_stage_apply"
BULK_HIDE = "bulk_hide"
EXPORT_PREPARE = "export_prepare"
EXPORT_DOWNLOAD = "export_download"
EXPORT_FILE = "export_file"  # session state: {data, rows, signature} of the prepared CSV

# --- analytics ----------------------------------------------------------------------------------------
A_BUCKET = "a_bucket"
A_SALARY_BY = "a_salary_by"
A_WATCHES = "a_watches"

# --- sync ---------------------------------------------------------------------------------------------
SYNC_NOW = "sync_now"
SYNC_STARTED = "sync_started"  # session state: a sync this session asked for and is watching

# --- live updates -------------------------------------------------------------------------------------
LIVE_SEEN = "live_seen"  # session state: (pointer stat, version) the page is showing
LIVE_REFRESH = "live_refresh"

# --- sources: add a company, enable / disable / remove (ui/sources_form.py) ------------------------------
SRC_FORM = "src_form"
SRC_URL = "src_url"
SRC_NAME = "src_name"
SRC_BASE_URL = "src_base_url"
SRC_CHECK = "src_check"  # the form's submit button: detect + test-fetch
SRC_ADD = "src_add"
SRC_CANCEL = "src_cancel"
SRC_CHECKED = "src_checked"  # session state: the checked board waiting for "Add"
SRC_MSG = "src_msg"  # session state: (level, text) of the last source action
SRC_TOGGLE = "src_toggle_"  # + source name: enable / disable button
SRC_REMOVE = "src_remove_"  # + source name: remove button (asks to confirm)
SRC_REMOVE_CONFIRM = "src_remove_confirm_"  # + source name
SRC_REMOVE_PENDING = "src_remove_pending"  # session state: the name waiting for confirmation


def source_key(prefix: str, name: str) -> str:
    """A per-source widget key: one of the SRC_* prefixes above + the source's name."""
    return prefix + name
