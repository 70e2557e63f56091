"""A deployment the cost model cannot price costs only itself its rows, never the others'.

Before the fix, one registry entry with ``fp32`` weights (or an ``int4`` KV cache), which
the registry accepted and the cost model rejects, raised inside ``recommend`` and so failed
the recommendations of every deployment. The registry now refuses such entries
(tests/unit/test_registry.py); the engine still isolates one that reaches it.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from pipelines.recommend.engine import recommend, unsupported

BAD = "search-llama8b"


def _key(rec):
    return (rec.deployment_id or "", rec.instance_id or "", rec.kind, rec.monthly_savings_usd)


@pytest.mark.parametrize(
    ("field", "value"), [("weight_precision", "fp32"), ("kv_cache_precision", "int4")]
)
def test_unpriceable_deployment_is_skipped_with_its_reason(fleet, result, field, value):
    bad = replace(fleet.configs[BAD], **{field: value})
    assert unsupported(bad) is not None
    out = recommend(replace(fleet, configs={**fleet.configs, BAD: bad}))
    (skipped,) = out.skipped
    assert skipped.deployment_id == BAD and repr(value) in skipped.reason
    # everyone else gets exactly the recommendations they get without the bad entry
    others = sorted(_key(r) for r in result.recommendations if r.deployment_id != BAD)
    assert sorted(_key(r) for r in out.recommendations) == others
    assert others, "the default fleet has recommendations for other deployments"
    assert BAD not in {row.deployment_id for row in out.efficiency}
    assert {row.deployment_id for row in out.efficiency} == {
        row.deployment_id for row in result.efficiency if row.deployment_id != BAD
    }
