"""The id sets of words people search for, as packed bitmaps over the index's ids (issue 12).

A description search whose words each match hundreds of thousands of postings spends its time turning
tantivy's hits into Python: ~0.4 µs a hit, 75 ms for "work hiring" at 1M jobs, 160 ms for "work" alone.
The words (and phrases) of earlier searches are kept here as bitmaps over the sorted ids of every indexed
document (one bit a document: 125 KB a word at 1M), so a later search that combines them (in another case
or order, with other filters, with another word) is a few numpy operations.

Bitmaps are built by one background thread, never on a query's path: for the words of a search that had
to take the slow path, for the saved views' words when a snapshot loads, and again for the words in use
whenever the index changes (a sync; the thread looks every POLL_S), most recently used first. A bitmap
belongs to one index generation; ``view`` answers only for the generation asked, so a search never mixes
two versions of the index. A first search of words with many hits still takes tantivy's path (~150 ms for
two common words with filters at 1M).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

import numpy as np

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
CAPACITY = 64  # words kept (8 MB at 1M documents)
QUIET_S = 0.3  # the thread waits for this long without a search: a rerun's queries (page, count, charts) go first
POLL_S = 5.0  # how often a thread holding bitmaps looks for a new generation (a sync), to rebuild them unasked

# What the owner provides: the generation and every document's id, sorted, read from one searcher; and a
# word's ids, sorted, at a given generation (IndexMoved if the index is past it; None: never keep this word).
Universe = Callable[[], tuple[int, np.ndarray]]
Extract = Callable[[K, int], "np.ndarray | None"]


class IndexMoved(Exception):
    """The index changed while a bitmap was read: it is built again on the new generation."""


class View(Generic[K]):
    """The bitmaps of one generation, as a search reads them."""

    def __init__(self, universe: np.ndarray, masks: dict[K, np.ndarray]) -> None:
        self.universe = universe
        self.masks = masks

    @property
    def size(self) -> int:
        return len(self.universe)

    def mask_of(self, ids: np.ndarray) -> np.ndarray | None:
        """The packed bitmap of these sorted ids; None if one is not in this generation's documents."""
        return _mask(self.universe, ids)

    def ids(self, mask: np.ndarray) -> np.ndarray:
        out: np.ndarray = self.universe[np.unpackbits(mask, count=self.size).view(bool)]
        return out

    def none(self) -> np.ndarray:
        return np.zeros((self.size + 7) // 8, np.uint8)

    def every(self) -> np.ndarray:
        return np.full((self.size + 7) // 8, 0xFF, np.uint8)  # bits past ``size`` are never read


def _mask(universe: np.ndarray, ids: np.ndarray) -> np.ndarray | None:
    pos = np.searchsorted(universe, ids)
    if len(ids) and (pos[-1] >= len(universe) or not np.array_equal(universe[pos], ids)):
        return None  # an id this generation does not hold: the ids came from another version of the index
    bits = np.zeros(len(universe), bool)
    bits[pos] = True
    return np.packbits(bits)


class TermBitmaps(Generic[K]):
    """Bitmaps of up to ``capacity`` search words for the newest index generation, built in the background."""

    def __init__(
        self, generation: Callable[[], int], universe: Universe, extract: Extract[K], capacity: int = CAPACITY
    ) -> None:
        self._generation_now = generation
        self._universe_of = universe
        self._extract = extract
        self.capacity = capacity
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._generation = -1
        self._universe: np.ndarray | None = None
        self._masks: OrderedDict[K, np.ndarray] = OrderedDict()  # least recently used first
        self._wanted: OrderedDict[K, None] = OrderedDict()  # to build, most recently asked last
        self._stale = False  # a search saw a newer generation: rebuild for it
        self._mismatch = False  # a word's ids did not fit the universe: read the universe again
        self._busy = False
        self._closed = False
        self._last_ask = 0.0
        self._thread: threading.Thread | None = None

    def view(self, generation: int) -> View[K] | None:
        """This generation's bitmaps, or None (not built yet: the caller searches the slow way meanwhile)."""
        with self._lock:
            self._last_ask = time.monotonic()
            if self._generation == generation and self._universe is not None:
                return View(self._universe, dict(self._masks))
            self._stale = True
            self._start_locked()
            return None

    def used(self, keys: Sequence[K]) -> None:
        """A search used these words: keep their bitmaps fresh, building the missing ones."""
        with self._lock:
            for key in keys:
                if key in self._masks:
                    self._masks.move_to_end(key)
                else:
                    self._wanted[key] = None
                    self._wanted.move_to_end(key)
            while len(self._wanted) > self.capacity:
                self._wanted.popitem(last=False)
            if self._wanted:
                self._start_locked()

    def idle(self, timeout: float) -> bool:
        """Wait until nothing is left to build (what a benchmark or a test waits for); False on timeout."""
        with self._lock:
            return self._changed.wait_for(lambda: not (self._busy or self._wanted or self._stale), timeout)

    def forget(self) -> None:
        """Drop every bitmap (the benchmark's "first search of these words")."""
        with self._lock:
            self._masks.clear()
            self._wanted.clear()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._changed.notify_all()

    # --- the background thread --------------------------------------------------------------------------

    def _start_locked(self) -> None:
        self._changed.notify_all()
        if self._thread is None and not self._closed:
            self._thread = threading.Thread(target=self._run, name="term-bitmaps", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                self._busy = False
                self._changed.notify_all()
                asked = self._changed.wait_for(self._asked, POLL_S if self._masks else None)
                if self._closed:
                    return
                self._busy = True
            if not asked:
                self._poll()  # held bitmaps, nothing asked: has a sync changed the index since?
                continue
            with self._lock:
                while (quiet := self._last_ask + QUIET_S - time.monotonic()) > 0 and not self._closed:
                    self._changed.wait(quiet)
                if self._closed:
                    return
                stale, self._stale = self._stale, False
            try:
                if stale or self._universe is None:
                    self._rebuild()
                else:
                    self._build_next()
            except Exception as e:  # a damaged or locked index: searches take the slow path and say why
                log.debug("term bitmaps: %s", e)
                with self._lock:
                    self._wanted.clear()

    def _asked(self) -> bool:
        return self._closed or self._stale or bool(self._wanted)

    def _poll(self) -> None:
        try:
            moved = self._generation_now() != self._generation
        except Exception as e:  # the state file went away: searches say why, the bitmaps wait
            log.debug("term bitmaps: %s", e)
            moved = False
        with self._lock:
            self._stale = self._stale or moved

    def _rebuild(self) -> None:
        generation, universe = self._universe_of()
        with self._lock:
            if generation == self._generation and not self._mismatch:
                return  # several searches asked for the same new generation
            self._mismatch = False
            # The words in use, most recent first, are built again for the new generation.
            again = [k for k in reversed(self._masks) if k not in self._wanted]
            self._generation, self._universe = generation, universe
            self._masks.clear()
            for key in reversed(again[: self.capacity]):
                self._wanted[key] = None
                self._wanted.move_to_end(key, last=False)

    def _build_next(self) -> None:
        with self._lock:
            if not self._wanted:
                return
            key, _ = self._wanted.popitem()  # the most recently asked
            generation, universe = self._generation, self._universe
        assert universe is not None
        try:
            ids = self._extract(key, generation)
            if ids is None:
                return
            mask = _mask(universe, ids)
        except IndexMoved:
            mask = None
        with self._lock:
            if mask is None or generation != self._generation:
                # The index moved on under us (or the universe came from a commit the generation had not
                # counted yet): read it again, then this word.
                self._stale = self._mismatch = True
                self._wanted[key] = None
                return
            self._masks[key] = mask
            while len(self._masks) > self.capacity:
                self._masks.popitem(last=False)
