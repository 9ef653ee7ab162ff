"""A worker's own copy of what it read, kept while a version number in the database stays.

Reading the same rows for every request costs queries; keeping them forever serves stale
answers. A version that every relevant write moves (a trigger, say) lets a worker keep
what it read for exactly as long as it is still right.
"""

from __future__ import annotations

from collections.abc import Callable, Sized
from typing import Generic, TypeVar

Kept = TypeVar("Kept", bound=Sized)


class KeptUnderVersion(Generic[Kept]):
    """What a worker keeps while ``version()`` stays: :meth:`current` is it, or a new one
    (``make()``) when the version has moved, the kept one has grown past ``max_size``
    entries, or there is no version (None). Whatever is read into it after ``current()``
    is at least as new as the version it is kept under."""

    def __init__(self, make: Callable[[], Kept], max_size: int, *, version: Callable[[], int | None]) -> None:
        self.make, self.max_size, self.version = make, max_size, version
        self._kept: tuple[int | None, Kept] = (None, make())

    def current(self) -> Kept:
        version = self.version()
        kept_version, kept = self._kept
        if version is None or kept_version != version or len(kept) > self.max_size:
            kept = self.make()
            self._kept = (version, kept)
        return kept
