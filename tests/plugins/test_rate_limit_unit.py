"""The rate limiter's buckets against a real redis-server: exact counts per key, shared by instances."""

from __future__ import annotations

import pytest

from gateway.plugins import PluginContext, PluginRejection
from gateway.plugins.builtin.rate_limit import RateLimit, RateLimitConfig


def _ctx(**headers: str) -> PluginContext:
    return PluginContext(request_id="r", headers=headers, client_name=headers.get("apollographql-client-name"))


async def _allowed(plugin: RateLimit, ctx: PluginContext, n: int) -> int:
    allowed = 0
    for _ in range(n):
        try:
            await plugin._check(ctx)
        except PluginRejection as exc:
            assert exc.status == 429 and exc.code == "REQUEST_RATE_LIMITED"
            assert int(exc.headers["retry-after"]) >= 1
        else:
            allowed += 1
    return allowed


async def test_memory_bucket_allows_capacity_per_key():
    plugin = RateLimit(RateLimitConfig(capacity=5, interval=60, key="header:x-user"))
    assert await _allowed(plugin, _ctx(**{"x-user": "a"}), 12) == 5
    assert await _allowed(plugin, _ctx(**{"x-user": "b"}), 3) == 3
    assert await _allowed(plugin, _ctx(), 20) == 20  # no header: this rule does not apply


async def test_redis_buckets_are_shared_by_two_instances(redis_server):
    config = RateLimitConfig(
        capacity=7, interval=60, key="client", backend="redis", redis_url=redis_server.url, key_prefix="t:rl:shared:"
    )
    one, two = RateLimit(config), RateLimit(config)
    await one.startup()
    await two.startup()
    try:
        ctx = _ctx(**{"apollographql-client-name": "web"})
        allowed = await _allowed(one, ctx, 5) + await _allowed(two, ctx, 5) + await _allowed(one, ctx, 5)
        assert allowed == 7
    finally:
        await one.shutdown()
        await two.shutdown()


async def test_redis_down_fails_open(free_port):
    config = RateLimitConfig(
        capacity=1, interval=60, backend="redis", redis_url=f"redis://127.0.0.1:{free_port()}/0", key="global"
    )
    plugin = RateLimit(config)
    await plugin.startup()
    try:
        assert await _allowed(plugin, _ctx(), 3) == 3
    finally:
        await plugin.shutdown()


async def test_redis_down_fails_closed_when_asked(free_port):
    config = RateLimitConfig(
        capacity=1, interval=60, backend="redis", redis_url=f"redis://127.0.0.1:{free_port()}/0", key="global",
        fail_open=False,
    )
    plugin = RateLimit(config)
    await plugin.startup()
    try:
        with pytest.raises(Exception):  # noqa: B017 - the chain turns it into PLUGIN_ERROR
            await plugin._check(_ctx())
    finally:
        await plugin.shutdown()
