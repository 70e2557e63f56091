"""Which billed instance types carry GPUs, and which billed lines look like GPUs we cannot name.

``data/gpu_instance_types.csv`` maps every size of the current GPU families of AWS, GCP and
Azure to its GPU and count (sources per row). ``raw.instance_types`` is that catalog joined
with the cost model's price list (``pipelines/costmodel/data/instance_prices.csv``, which
only adds the list price): before, only the 33 priced types were GPUs, and a ``g6.2xlarge``
bill became non-GPU usage and landed in unallocated.

A usage line whose instance type is not in the catalog is classified by its family: GPU-like
(AWS ``p``/``g``/``gr`` families, GCP ``a2``-``a4``/``g2``+, Azure ``NC``/``ND``/``NV``,
SageMaker ``ml.p``/``ml.g``), known non-GPU (general-purpose, memory, storage, accelerator
families), or unknown. GPU-like and unknown lines are reported with their dollars by a WARN
check: they may be GPU cost allocation cannot see.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

CATALOG_PATH = Path(__file__).parent / "data" / "gpu_instance_types.csv"

# The family an instance type belongs to: AWS "g6.2xlarge" -> "g6", GCP "a2-highgpu-1g" ->
# "a2", Azure "standard_nc24ads_a100_v4" -> "standard_nc"; lower-cased input.
GPU_LIKE = (
    r"^(ml\.)?(p|g|gr)\d[a-z0-9-]*\."  # AWS / SageMaker GPU families, any generation
    r"|^(a\d|g\d)-"  # GCP accelerator-optimized and G-series
    r"|^standard_n[cdvg]"  # Azure N-series
)
NOT_GPU = (
    r"^(ml\.|db\.|cache\.|search\.)?"
    r"(m|c|r|t|x|z|i|d|h|u|a|f|im|is|hpc|mac|vt|inf|trn|dl)\d[a-z0-9-]*\.|^u-"  # AWS
    r"|^(n1|n2|n2d|n4|e2|c2|c2d|c3|c3d|c4|c4a|c4d|m1|m2|m3|m4|t2a|t2d|h3|z3|x4|ct\d)-"  # GCP
    r"|^standard_[a-mo-z]"  # Azure: every series but N
)


def load_catalog() -> pl.DataFrame:
    return pl.read_csv(CATALOG_PATH, comment_prefix="#", infer_schema_length=None)


def instance_types(prices_path: Path) -> pl.DataFrame:
    """One row per GPU instance type: the catalog's GPU and count, the price list's price.

    A type only in the price list is kept as the price list says (it was a GPU before).
    """
    catalog = (
        load_catalog()
        .filter(pl.col("kind") == "gpu")
        .select(
            "provider",
            "instance_type",
            "gpu_id",
            pl.col("gpus_per_instance").cast(pl.Int64),
            pl.col("source_url").alias("catalog_source_url"),
        )
    )
    # Prices as text: the staging model casts them to DECIMAL, never through a float.
    prices = pl.read_csv(prices_path, schema_overrides={"usd_per_hour": pl.String})
    priced = prices.select(
        "provider",
        "instance_type",
        pl.col("gpu_id").alias("price_gpu_id"),
        pl.col("gpus_per_instance").cast(pl.Int64).alias("price_gpus"),
        "usd_per_hour",
        "region",
    )
    joined = catalog.join(priced, on=["provider", "instance_type"], how="full", coalesce=True)
    return joined.select(
        "provider",
        "instance_type",
        pl.coalesce("gpu_id", "price_gpu_id").alias("gpu_id"),
        pl.coalesce("gpus_per_instance", "price_gpus").alias("gpus_per_instance"),
        "usd_per_hour",
        "region",
        "catalog_source_url",
    ).sort("provider", "instance_type")


def unknown_gpu_like_lines(con, periods: list) -> list[tuple]:
    """(instance_type, family_kind, currency, lines, billed_cost, effective_cost) of usage
    lines in ``periods`` whose instance type is not a catalogued GPU type or known non-GPU
    accelerator, and whose family is GPU-like or unknown; largest billed cost first."""
    catalog = load_catalog().select(pl.col("instance_type").str.to_lowercase(), "family", "kind")
    con.register("_gpu_catalog", catalog)
    try:
        return con.execute(
            "with lines as (select lower(instance_type) as instance_type, billing_currency, "
            "billed_cost, effective_cost from raw.billing_line_items "
            "where charge_category = 'Usage' and instance_type is not null "
            "and list_contains(?, billing_period)), "
            "classified as (select l.*, case when regexp_matches(l.instance_type, ?) "
            "then 'gpu-like' when regexp_matches(l.instance_type, ?) then 'not-gpu' "
            "else 'unknown' end as family_kind from lines l "
            "anti join _gpu_catalog c on l.instance_type = c.instance_type "
            "or (c.instance_type like '%.*' "
            "and split_part(l.instance_type, '.', 1) = c.family)) "
            "select instance_type, family_kind, billing_currency, count(*), sum(billed_cost), "
            "sum(effective_cost) from classified where family_kind <> 'not-gpu' "
            "group by all order by 5 desc, 1",
            [periods, GPU_LIKE, NOT_GPU],
        ).fetchall()
    finally:
        con.unregister("_gpu_catalog")
