"""Numeric precisions: bytes per weight or KV element, and which tensor-core peak they use.

INT4 is not 0.5 B per parameter: group quantization stores a 16-bit scale and a 16-bit zero
point per group of 128 weights, +0.25 bit per parameter (COSTMODEL.md §2.3). The 4-bit float
formats carry their scales too: NVFP4 one FP8 (E4M3) scale per 16 weights (4.5 bits), OCP
MXFP4 one 8-bit (E8M0) scale per 32 (4.25 bits). Quantizers (ModelOpt FP8/NVFP4, AWQ, GPTQ,
SmoothQuant, Quark MXFP4) keep the embedding table and lm_head in 16-bit.
"""

from __future__ import annotations

from dataclasses import dataclass

BITS_PER_BYTE = 8
ACTIVATION_BYTES = 2  # activations and all-reduce payloads stay 16-bit in every engine modelled


@dataclass(frozen=True)
class Precision:
    """How one weight precision is stored and computed.

    ``compute_dtype`` names the GPU peak the matmuls run at: W4A16 (AWQ/GPTQ) dequantizes to
    16-bit, so INT4 weights compute at the FP16 peak; W8A8 INT8 uses the INT8 peak.
    """

    name: str
    weight_bits: float
    group_size: int | None
    group_overhead_bits: int
    compute_dtype: str
    embeddings_16bit: bool

    @property
    def bytes_per_weight(self) -> float:
        overhead = self.group_overhead_bits / self.group_size if self.group_size else 0.0
        return (self.weight_bits + overhead) / BITS_PER_BYTE


PRECISIONS: dict[str, Precision] = {
    "fp16": Precision("fp16", 16, None, 0, "fp16", embeddings_16bit=True),
    "bf16": Precision("bf16", 16, None, 0, "fp16", embeddings_16bit=True),
    "fp8": Precision("fp8", 8, None, 0, "fp8", embeddings_16bit=True),
    "int8": Precision("int8", 8, None, 0, "int8", embeddings_16bit=True),
    # 16-bit scale + 16-bit zero point per 128 weights
    "int4": Precision("int4", 4, 128, 32, "fp16", embeddings_16bit=True),
    # Blackwell NVFP4 (W4A4): FP8 E4M3 scale per 16 weights; FP4 tensor cores
    "nvfp4": Precision("nvfp4", 4, 16, 8, "fp4", embeddings_16bit=True),
    # OCP MXFP4 (CDNA 4, Blackwell): E8M0 scale per 32 weights; FP4 tensor cores
    "mxfp4": Precision("mxfp4", 4, 32, 8, "fp4", embeddings_16bit=True),
}

KV_CACHE_BYTES_PER_ELEMENT: dict[str, float] = {"fp16": 2, "bf16": 2, "fp8": 1, "int8": 1}


def get_precision(name: str) -> Precision:
    """The weight precision called ``name`` (``fp16``, ``bf16``, ``fp8``, ``int8``, ``int4``,
    ``nvfp4``, ``mxfp4``).

    Examples
    --------
    >>> get_precision("int4").bytes_per_weight
    0.53125
    """
    try:
        return PRECISIONS[name.lower()]
    except KeyError:
        raise ValueError(
            f"unknown weight precision {name!r}; known: {', '.join(PRECISIONS)}"
        ) from None


def kv_cache_bytes_per_element(name: str) -> float:
    """Bytes per KV-cache element: ``bf16``/``fp16`` 2, ``fp8``/``int8`` 1."""
    try:
        return KV_CACHE_BYTES_PER_ELEMENT[name.lower()]
    except KeyError:
        known = ", ".join(KV_CACHE_BYTES_PER_ELEMENT)
        raise ValueError(f"unknown KV-cache precision {name!r}; known: {known}") from None
