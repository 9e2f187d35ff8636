"""The API's read caches: reload only when the version moved, or when too old."""

from __future__ import annotations

import asyncio

from srekit.api.cache import TtlCache


def test_reloads_only_when_the_version_moves_or_the_value_is_too_old() -> None:
    loads: list[int] = []
    version = {"value": 1}

    def load() -> int:
        loads.append(version["value"])
        return version["value"]

    cache = TtlCache(load, ttl_s=0.0, version=lambda: version["value"], max_age_s=3600.0)

    async def scenario() -> list[int]:
        seen = [await cache.get(), await cache.get(), await cache.get()]
        version["value"] = 2
        seen.append(await cache.get())
        cache.max_age_s = 0.0  # too old now: reload even with the same version
        seen.append(await cache.get())
        return seen

    assert asyncio.run(scenario()) == [1, 1, 1, 2, 2]
    assert loads == [1, 2, 2]


def test_without_a_version_it_is_a_plain_ttl_cache() -> None:
    loads: list[int] = []
    cache = TtlCache(lambda: loads.append(1) or len(loads), ttl_s=0.0)

    async def scenario() -> list[int]:
        return [await cache.get(), await cache.get()]

    assert asyncio.run(scenario()) == [1, 2]
