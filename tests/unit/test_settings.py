"""jobdash.toml: a bad config fails naming the key and the problem, before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigError
from core.settings import load_settings


def load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    cfg = tmp_path / "jobdash.toml"
    cfg.write_text(text, encoding="utf-8")
    return load_settings({"JOBDASH_CONFIG": str(cfg), "JOBDASH_DATA_DIR": str(tmp_path / "data")})


def test_no_config_means_the_embedded_demo(tmp_path: Path) -> None:
    from core.settings import ROOT

    if (ROOT / "jobdash.toml").exists():
        pytest.skip("this checkout has its own jobdash.toml")
    s = load_settings({"JOBDASH_DATA_DIR": str(tmp_path / "d"), "JOBDASH_CONFIG": ""})
    assert s.data_dir == (tmp_path / "d").resolve()
    # JOBDASH_CONFIG empty → the repo's default path, which tests never create.
    assert [c.kind for c in s.sources] == ["demo"] and s.sources[0].options["jobs"] == 5000 and s.demo_default


def test_a_full_config(tmp_path: Path) -> None:
    s = load(
        tmp_path,
        """
[schedule]
interval_minutes = 30
[retention]
snapshots = 3
purge_delisted_after_days = 14
[alerts]
slow_query_p95_ms = 80
[[sources]]
name = "acme"
kind = "greenhouse"
board = "acme"
schedule_minutes = 120
[[sources]]
kind = "file"
path = "exports/*.csv"
enabled = false
""",
    )
    assert s.interval_minutes == 30 and s.keep_snapshots == 3 and s.purge_after_days == 14
    assert s.thresholds.slow_query_p95_ms == 80.0
    assert [(c.name, c.kind, c.enabled, c.schedule_minutes) for c in s.sources] == [
        ("acme", "greenhouse", True, 120),
        ("file", "file", False, None),
    ]
    assert s.sources[1].options["base_dir"] == str(tmp_path), "relative file paths resolve next to the config"
    assert not s.data_dir.exists(), "loading settings writes nothing"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[schedule]\ninterval_minutes = 'often'", "schedule.interval_minutes: expected float"),
        ("[schedule]\ninterval_minutes = 0", "schedule.interval_minutes: must be positive"),
        ("colour = 'blue'", "colour: unknown key"),
        ("[[sources]]\nkind = 'greenhouse'", "sources[0].board: required"),
        ("[[sources]]\nkind = 'monster'", "unknown source kind 'monster'"),
        (
            "[[sources]]\nkind = 'lever'\nsite = 'x'\n[[sources]]\nkind = 'lever'\nsite = 'y'",
            "sources[1].name: duplicate",
        ),
        ("[[sources]]\nkind = 'demo'\nenabled = 'yes'", "sources[0].enabled: expected bool"),
        ("[[sources]]\nkind = 'demo'\njobs = 0", "sources[0].jobs"),
        ("[alerts]\nnoise = 1", "alerts.noise: unknown threshold"),
        ("sources = 'x'", "sources: expected an array"),
        ('[sync]\nmemory_limit = "1GB\'; DROP"', "sync.memory_limit: expected a size"),
        ("[schedule\n", "jobdash.toml"),
    ],
)
def test_bad_config_names_key_and_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load(tmp_path, text)
    assert not (tmp_path / "data").exists()


def test_missing_explicit_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="JOBDASH_CONFIG: no such file"):
        load_settings({"JOBDASH_CONFIG": str(tmp_path / "nope.toml"), "JOBDASH_DATA_DIR": str(tmp_path)})


def test_cron_schedules_are_checked_at_load(tmp_path: Path) -> None:
    s = load(tmp_path, '[schedule]\ncron = "0 */2 * * *"\n[[sources]]\nkind = "remoteok"\ncron = "30 6 * * 1-5"\n')
    assert s.cron == "0 */2 * * *" and s.sources[0].cron == "30 6 * * 1-5"
    with pytest.raises(ConfigError, match="schedule.cron"):
        load(tmp_path, '[schedule]\ncron = "every tuesday"\n')


def test_parsed_once_per_version_of_the_file(tmp_path: Path) -> None:
    cfg = tmp_path / "jobdash.toml"
    cfg.write_text("[schedule]\ninterval_minutes = 30\n", encoding="utf-8")
    env = {"JOBDASH_CONFIG": str(cfg), "JOBDASH_DATA_DIR": str(tmp_path / "data")}
    first = load_settings(env)
    assert load_settings(env) is first  # memoized: no second parse within a rerun
    cfg.write_text("[schedule]\ninterval_minutes = 45\n", encoding="utf-8")
    assert load_settings(env).interval_minutes == 45.0  # an edit applies on the next call
    cfg.write_text("[schedule]\ninterval_minutes = -1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="interval_minutes"):
        load_settings(env)  # a bad file fails every time, it is never cached
