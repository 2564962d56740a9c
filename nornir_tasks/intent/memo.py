"""Memoising a pure function of the intent, once per loaded intent.

Several derived views of the intent (the compiled ACLs, the allowed flows, the index of
site prefixes, the management ACLs) are asked for by every device of a build. An
:class:`~nornir_tasks.intent.loader.Intent` is immutable, so a result can be kept for as
long as that intent object lives; the key is its identity, checked against the object
itself so a recycled ``id`` never returns another intent's result.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from nornir_tasks.intent.loader import Intent

T = TypeVar("T")
#: intents kept at once: a build has one, the tests a few
KEEP = 4


def per_intent(fn: Callable[[Intent], T]) -> Callable[[Intent], T]:
    """Decorate ``fn(intent)`` so it runs once per intent object.

    >>> calls = []
    >>> @per_intent
    ... def count(intent):
    ...     calls.append(1)
    ...     return len(calls)
    >>> class I: pass
    >>> i = I()
    >>> count(i), count(i), len(calls)
    (1, 1, 1)
    """
    cache: dict[int, tuple[Intent, T]] = {}

    @functools.wraps(fn)
    def wrapper(intent: Intent) -> T:
        hit = cache.get(id(intent))
        if hit is not None and hit[0] is intent:
            return hit[1]
        value = fn(intent)
        if len(cache) >= KEEP:
            cache.clear()
        cache[id(intent)] = (intent, value)
        return value

    return wrapper
