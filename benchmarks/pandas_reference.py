"""What most Streamlit dashboards do: the whole snapshot in a pandas DataFrame, filtered in memory.

``frame`` turns the same Arrow table our other baselines get (hot columns + description) into a DataFrame
(``to_pandas()``, object strings, as ``pd.read_parquet`` would give them). ``Reference`` answers the same
query mix with boolean masks, ``str.contains(regex=False, case=False)``, ``sort_values`` + ``head``/``iloc``,
``value_counts`` and ``groupby`` by day or week; each method returns plain values that ``benchmarks/query_bench.py``
compares with ours.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

_SORT = ["posted_at", "job_id"]


def frame(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas()


def _contains(s: pd.Series, word: str) -> pd.Series:
    return s.str.contains(word, case=False, regex=False, na=False)


class Reference:
    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df

    def _listed(self) -> pd.Series:
        return self.df["delisted_at"].isna()

    def _words(self, text: str, columns: Sequence[str]) -> pd.Series:
        mask = pd.Series(True, index=self.df.index)
        for w in text.split():
            hit = pd.Series(False, index=self.df.index)
            for c in columns:
                hit |= _contains(self.df[c], w)
            mask &= hit
        return mask

    def _filters(self, workplace: Sequence[str], salary_min: float) -> pd.Series:
        df = self.df
        salary = df["salary_annual_max"].fillna(df["salary_annual_min"]) >= salary_min
        return df["workplace_type"].isin(list(workplace)) & salary

    def _page(self, mask: pd.Series, limit: int) -> tuple[list[str], int]:
        hit = self.df[mask]
        page = hit.sort_values(_SORT, ascending=False, na_position="last").head(limit)
        return page["job_id"].tolist(), len(hit)

    def first_page(self, limit: int) -> list[str]:
        return self._page(self._listed(), limit)[0]

    def text_page(self, text: str, limit: int) -> tuple[list[str], int]:
        return self._page(self._listed() & self._words(text, ("title", "company")), limit)

    def filtered_page(
        self, text: str, workplace: Sequence[str], salary_min: float, limit: int
    ) -> tuple[list[str], int]:
        mask = self._listed() & self._words(text, ("title", "company")) & self._filters(workplace, salary_min)
        return self._page(mask, limit)

    def filtered_count(self, text: str, workplace: Sequence[str], salary_min: float) -> int:
        mask = self._listed() & self._words(text, ("title", "company")) & self._filters(workplace, salary_min)
        return int(mask.sum())

    def desc_page(self, words: str, workplace: Sequence[str], salary_min: float, limit: int) -> tuple[list[str], int]:
        # cheap masks first, then the substring search on the survivors only (what a careful author writes)
        pre = self._listed() & self._filters(workplace, salary_min)
        sub = self.df.loc[pre, "description"]
        hit = pd.Series(True, index=sub.index)
        for w in words.split():
            hit &= _contains(sub, w)
        mask = pd.Series(False, index=self.df.index)
        mask[hit.index[hit.to_numpy()]] = True
        return self._page(mask, limit)

    def facet(self, column: str, top: int) -> list[tuple[str, int]]:
        s = self.df.loc[self._listed(), column]
        counts = s[s.notna() & (s != "")].value_counts()
        # ties by value, as the others order them
        out = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        return [(str(v), int(n)) for v, n in out]

    def timeseries(self, bucket: str) -> list[tuple[str, int]]:
        posted = self.df.loc[self._listed(), "posted_at"].dropna()
        key = posted.dt.floor("D") if bucket == "day" else posted.dt.to_period("W").dt.start_time
        counts = posted.groupby(key).size()
        return [(ts.strftime("%Y-%m-%d"), int(n)) for ts, n in counts.items()]

    def salary_distribution(self, bins: int) -> list[tuple[str, int, int]]:
        df = self.df.loc[self._listed(), ["salary_currency", "salary_annual_min", "salary_annual_max"]]
        lo_, hi_ = df["salary_annual_min"], df["salary_annual_max"]
        df = df.assign(mid=(lo_.fillna(hi_) + hi_.fillna(lo_)) / 2).dropna(subset=["mid", "salary_currency"])
        g = df.groupby("salary_currency")["mid"]
        lo, hi = g.transform("min"), g.transform("max")
        width = (hi - lo).replace(0, np.nan)
        frac = ((df["mid"] - lo) / width).fillna(0)
        b = np.minimum(np.floor(frac * bins), bins - 1).astype(int)
        counts = df.assign(bin=b).groupby(["salary_currency", "bin"]).size()
        return [(str(c), int(k), int(n)) for (c, k), n in counts.items()]

    def offset_page(self, offset: int, limit: int) -> list[str]:
        listed = self.df[self._listed()]
        page = listed.sort_values(_SORT, ascending=False, na_position="last").iloc[offset : offset + limit]
        ids: list[Any] = page["job_id"].tolist()
        return ids
