"""Edits of jobdash.toml's [[sources]] that keep the user's comments and formatting (tomlkit).

Every edit reads the file, changes only the source it is about, checks the whole result with
``core.settings.load_settings`` (a temp file next to the config), and only then ``os.replace``s it into
place — a bad result leaves the file untouched. Edits from several processes are serialized by an
flock on the config's folder.
"""

from __future__ import annotations

import fcntl
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.container import Container
from tomlkit.items import AoT, Comment, Item, Table, Whitespace

from core.errors import ConfigError, JobdashError
from core.settings import ROOT, load_settings
from core.sources import KINDS
from core.sources.detect import TOKEN_OPTIONS, Detected, DetectError, TestFetch, detect, source_options, test_fetch

HEADER = (
    "jobdash configuration — created by `python -m core sources add` (or the Sync page).",
    "Every option is described in jobdash.example.toml; comments you add here are kept by later edits.",
)


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """The file edits go to: JOBDASH_CONFIG, else jobdash.toml at the project root (it may not exist yet)."""
    env = os.environ if env is None else env
    explicit = env.get("JOBDASH_CONFIG")
    return Path(explicit).expanduser() if explicit else ROOT / "jobdash.toml"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.parent, os.O_RDONLY)  # the folder itself: no lock file left next to the config
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing drops the lock


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read ({e})") from e


def _parse(path: Path, text: str) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as e:
        raise ConfigError(f"{path}: {e}") from e


def _new_document() -> tomlkit.TOMLDocument:
    doc = tomlkit.document()
    for line in HEADER:
        doc.add(tomlkit.comment(line))
    doc.add(tomlkit.nl())
    return doc


def _sources(doc: tomlkit.TOMLDocument, path: Path) -> AoT | None:
    if "sources" not in doc:
        return None
    entries = [k for k, _ in doc.body if k is not None and k.key == "sources"]
    item = doc.item("sources")
    if not isinstance(item, AoT) or len(entries) != 1:
        raise ConfigError(
            f"{path}: sources is not one block of [[sources]] tables; edit this file by hand (or group them)"
        )
    return item


def _names(aot: AoT | None) -> list[str]:
    return _names_of(list(aot or []))


def _names_of(tables: list[Table]) -> list[str]:
    return [str(_plain(t.get("name", t.get("kind", "")))) for t in tables]


def _find(aot: AoT | None, name: str, path: Path) -> int:
    names = _names(aot)
    if name not in names:
        raise ConfigError(f"no source named {name!r} in {path} (configured: {', '.join(names) or 'none'})")
    return names.index(name)


def _write_checked(path: Path, before: str | None, doc: tomlkit.TOMLDocument, env: Mapping[str, str] | None) -> None:
    """Write ``doc`` to a temp file next to ``path``, load it as settings, then replace ``path`` with it."""
    text = tomlkit.dumps(doc)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        base = dict(os.environ if env is None else env)
        try:
            load_settings({**base, "JOBDASH_CONFIG": str(tmp)})
        except JobdashError as e:
            raise ConfigError(f"not written: the result would be an invalid configuration ({e})") from e
        if _read(path) != before:
            raise ConfigError(f"{path} changed while it was being edited; nothing written, try again")
        if before is not None:
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _ends_with_blank_line(item: Item | Container) -> bool:
    return tomlkit.dumps(item).endswith("\n\n") if isinstance(item, Container) else item.as_string().endswith("\n\n")


def _plain(value: Any) -> Any:
    return value.unwrap() if isinstance(value, Item) else value


def _slug(token: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", token.lower()).strip("-")


def source_names(path: Path) -> list[str]:
    text = _read(path)
    if not text:
        return []
    return _names(_sources(_parse(path, text), path))


def unique_name(token: str, kind: str, taken: list[str]) -> str:
    """'acme', else 'acme-greenhouse', else 'acme-greenhouse-2', … — never one in ``taken``."""
    base = _slug(token) or kind
    for candidate in (base, f"{base}-{kind}"):
        if candidate not in taken:
            return candidate
    n = 2
    while f"{base}-{kind}-{n}" in taken:
        n += 1
    return f"{base}-{kind}-{n}"


def _same_board(table: Mapping[str, Any], kind: str, identity: Mapping[str, str]) -> bool:
    if table.get("kind") != kind:
        return False
    defaults = {"region": "global"}
    return all(str(_plain(table.get(k, defaults.get(k, "")))).lower() == str(v).lower() for k, v in identity.items())


def add_source(
    kind: str,
    options: Mapping[str, Any],
    *,
    name: str | None = None,
    identity: Mapping[str, str] | None = None,
    token: str | None = None,
    comment: str | None = None,
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Append a [[sources]] table and return its name; the file is created when there is none.

    ``identity`` (the options that name the board) refuses a second source of the same board; without
    ``name`` the name is derived from ``token`` and made unique.
    """
    path = config_path(env) if path is None else path
    with _locked(path):
        before = _read(path)
        doc = _parse(path, before) if before else _new_document()
        aot = _sources(doc, path)
        tables = list(aot or [])
        taken = _names(aot)
        if identity:
            for t in tables:
                if _same_board(t, kind, identity):
                    board = ", ".join(f"{k} {v!r}" for k, v in identity.items())
                    raise ConfigError(
                        f"already configured: source {t.get('name', kind)!r} is this {kind} board ({board})"
                    )
        if name is not None:
            if not name.strip() or name != name.strip():
                raise ConfigError(f"--name: expected a non-empty name without surrounding spaces, got {name!r}")
            if name in taken:
                raise ConfigError(f"a source named {name!r} already exists in {path}; choose another --name")
        else:
            name = unique_name(token or kind, kind, taken)
        table = tomlkit.table()
        if comment:
            table.add(tomlkit.comment(comment.replace("\n", " ")))
        table.add("name", name)
        table.add("kind", kind)
        for key, value in options.items():
            table.add(key, value)
        if aot is None:
            if doc.body and not _ends_with_blank_line(doc):
                doc.add(tomlkit.nl())
            doc.append("sources", tomlkit.aot())
            aot = _sources(doc, path)
            assert aot is not None
        elif tables and not _ends_with_blank_line(tables[-1]):
            tables[-1].add(tomlkit.nl())
        aot.append(table)
        _write_checked(path, before, doc, env)
    return name


def set_enabled(name: str, enabled: bool, *, path: Path | None = None, env: Mapping[str, str] | None = None) -> bool:
    """Turn a source on or off; False when it already was (the file is then not rewritten)."""
    path = config_path(env) if path is None else path
    with _locked(path):
        before = _read(path)
        if not before:
            raise ConfigError(f"no source named {name!r}: {path} does not exist or is empty")
        doc = _parse(path, before)
        aot = _sources(doc, path)
        table = list(aot or [])[_find(aot, name, path)]
        if _plain(table.get("enabled", True)) is enabled:
            return False
        if "enabled" in table:
            table["enabled"] = enabled  # the line keeps its place and its comment
        else:
            body = table.value.body
            last_key = max(i for i, (k, _) in enumerate(body) if k is not None)
            if last_key + 1 < len(body):  # before the comments that trail the table (they belong below it)
                table.value._insert_at(last_key + 1, "enabled", enabled)
            else:
                table.add("enabled", enabled)
        _write_checked(path, before, doc, env)
    return True


def _insert_plain(container: Container, idx: int, items: list[Item]) -> None:
    """Insert comment/whitespace items (no key) at ``idx`` of a container, keeping its key index right."""
    body = container.body
    for k, v in list(container._map.items()):
        if isinstance(v, tuple):
            container._map[k] = tuple(i + len(items) if i >= idx else i for i in v)
        elif v >= idx:
            container._map[k] = v + len(items)
    for offset, item in enumerate(items):
        body.insert(idx + offset, (None, item))


def _drop_leading_blank(items: list[Item]) -> list[Item]:
    while items and isinstance(items[0], Whitespace):
        items = items[1:]
    return items


def remove_source(name: str, *, path: Path | None = None, env: Mapping[str, str] | None = None) -> None:
    """Delete a source's table. Comments after its last key (the ones above the next table) are kept."""
    path = config_path(env) if path is None else path
    with _locked(path):
        before = _read(path)
        if not before:
            raise ConfigError(f"no source named {name!r}: {path} does not exist or is empty")
        doc = _parse(path, before)
        aot = _sources(doc, path)
        i = _find(aot, name, path)
        assert aot is not None  # _find found the name in it
        tables: list[Table] = list(aot)
        body = tables[i].value.body
        last_key = max((j for j, (k, _) in enumerate(body) if k is not None), default=-1)
        trailing: list[Item] = [item for _, item in body[last_key + 1 :] if isinstance(item, Comment | Whitespace)]
        if i > 0:
            if _ends_with_blank_line(tables[i - 1]):
                trailing = _drop_leading_blank(trailing)
            for item in trailing:
                tables[i - 1].value.append(None, item)
            del aot[i]
        else:
            at = next(j for j, (k, _) in enumerate(doc.body) if k is not None and k.key == "sources")
            if "".join(item.as_string() for _, item in doc.body[:at]).endswith("\n\n"):
                trailing = _drop_leading_blank(trailing)
            if len(tables) == 1:
                doc.remove("sources")
                if trailing:
                    if at < len(doc.body):
                        _insert_plain(doc, at, trailing)
                    else:
                        for item in trailing:
                            doc.append(None, item)
            else:
                del aot[0]
                if trailing:
                    _insert_plain(doc, at, trailing)
        _write_checked(path, before, doc, env)


# --- add a company from its careers URL ------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """A board found and (unless skipped) test-fetched; ``name`` is what ``add_checked`` will call it."""

    found: Detected
    name: str
    options: Mapping[str, Any]
    fetch: TestFetch | None


def _identity(found: Detected) -> dict[str, str]:
    defaults = {"region": "global"}
    return {k: str(found.options.get(k, defaults.get(k, ""))) for k in TOKEN_OPTIONS[found.kind]}


def check_url(
    url: str,
    *,
    name: str | None = None,
    test: bool = True,
    base_url: str | None = None,
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Checked:
    """Detect the board of ``url``, refuse a name or board already configured, and test-fetch it once.

    Nothing is written. DetectError (bad URL, no board), ConfigError (taken), SourceError (the board fails).
    """
    path = config_path(env) if path is None else path
    found = detect(url)
    if found.kind not in KINDS:
        raise DetectError(f"{url}: a {found.kind} board ({found.token!r}), but this jobdash has no {found.kind} source")
    text = _read(path)
    tables = list(_sources(_parse(path, text), path) or []) if text else []
    taken = _names_of(tables)
    for t in tables:
        if _same_board(t, found.kind, _identity(found)):
            raise ConfigError(f"already configured: source {_plain(t.get('name', found.kind))!r} is {found.describe()}")
    if name is not None and name in taken:
        raise ConfigError(f"a source named {name!r} already exists in {path}; choose another name")
    options = source_options(found, base_url)
    result = test_fetch(found, base_url=base_url) if test else None
    return Checked(found, name or unique_name(found.token, found.kind, taken), options, result)


def add_checked(checked: Checked, *, path: Path | None = None, env: Mapping[str, str] | None = None) -> str:
    """Write the checked source to jobdash.toml (atomically, comments kept); returns its name."""
    found = checked.found
    return add_source(
        found.kind,
        checked.options,
        name=checked.name,
        identity=_identity(found),
        comment=f"added from {found.url}" + (" (found in the page)" if found.found_in_page else ""),
        path=path,
        env=env,
    )
