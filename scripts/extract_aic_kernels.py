#!/usr/bin/env python3
"""Extracts the kernel timings inferplan fits its kernel curves to from NVIDIA's AIConfigurator
tables, into data/perf/kernels.csv (and data/perf/kernel_sources.csv for provenance).

Development tool only: nothing at build or run time needs it or the wheel.

    pip download --no-deps aiconfigurator-core==0.12.0 -d /tmp/aic
    unzip -q /tmp/aic/aiconfigurator_core-0.12.0-*.whl -d /tmp/aic/ex
    pip install pandas pyarrow
    python3 scripts/extract_aic_kernels.py /tmp/aic/ex

The tables are published under the Apache License 2.0 (SPDX header of every
collection_meta.yaml; package metadata). Only measured numbers (facts) are copied, a subset:
TensorRT-LLM's tables of each GPU (newest version), GEMMs on a grid of shapes, decode and
prefill attention with 128-wide heads, the custom all-reduce, and the fused MoE layer (routing,
permutation, the gated expert GEMMs and the finalize, `moe_perf`): every expert shape of the
table, experts sharded by TP only (`moe_ep_size` 1, TP 1/2/4/8), balanced routing (A100's
table has only power-law skews: `power_law_1.01` there), the default CUTLASS kernels
(`moe_torch_flow_cutlass`; `moe_torch_flow` for MXFP4 and on A100). The MoE table chosen is
the version with the most rows: on Blackwell, 1.3.0rc23 recollected only DeepSeek V4's shapes
and its reuse.yaml declares the other shapes reused from 1.3.0rc20. The all-reduce tables'
`message_size` counts bf16 elements (their busbw for 8 H100s is then NCCL's known ~450 GB/s; as
bytes it would be half of what NVLink delivers), so the column is `message_elements`.
"""
import csv
import glob
import os
import sys

import pandas as pd

PACKAGE = "aiconfigurator-core"
VERSION = "0.12.0"
LICENCE = "Apache-2.0 (Copyright (c) NVIDIA CORPORATION & AFFILIATES)"

# AIConfigurator system -> inferplan catalog GPU name.
SYSTEMS = {
    "a100_sxm": "A100 80GB SXM4",
    "h100_sxm": "H100 SXM",
    "h200_sxm": "H200 SXM",
    "b200_sxm": "B200 (HGX/DGX B200, per GPU)",
    "gb200": "GB200 (per GPU, NVL72)",
    "b300_sxm": "B300 (HGX B300 / p6-b300, per GPU)",
    "gb300": "GB300 (per GPU, NVL72)",
    "l40s": "L40S",
    "rtx_pro_6000_server": "RTX PRO 6000 Blackwell Server Edition",
}
DTYPES = {"bfloat16": "bf16", "fp8": "fp8", "nvfp4": "fp4"}
GEMM_M = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384]
GEMM_NK = [(1024, 4096), (4096, 4096), (16384, 4096), (4096, 16384), (2048, 8192),
           (8192, 8192), (8192, 2048), (16384, 16384)]
DECODE_BATCH = [1, 4, 16, 64, 256, 1024]
DECODE_STEP = [127, 511, 2047, 8191, 32767]
HEADS = [(8, 8), (32, 8), (64, 8)]
PREFILL_BATCH = [1, 4, 16]
PREFILL_ISL = [256, 1024, 4096, 16384]
# MoE weight formats -> inferplan's; MXFP4 is W4A8 (MXFP8 activations) on Blackwell and W4A16 on
# Hopper, which have one table each.
MOE_DTYPES = {"bfloat16": "bf16", "fp8": "fp8", "nvfp4": "fp4", "w4a8_mxfp4_mxfp8": "mxfp4",
              "w4a16_mxfp4": "mxfp4"}
MOE_KERNELS = {"moe_torch_flow_cutlass", "moe_torch_flow"}
MOE_TOKENS = [1, 4, 16, 64, 256, 1024, 4096, 16384]
MOE_TP = [1, 2, 4, 8]

COLUMNS = ["gpu", "op", "dtype", "m", "n", "k", "batch", "context", "heads", "kv_heads",
           "head_dim", "gpus", "message_elements", "experts", "top_k", "latency_ms", "source"]


def newest(root, system, pattern):
    """The newest version's table (versions compared numerically where they can be)."""
    files = glob.glob(os.path.join(root, system, pattern))
    if not files:
        return None

    def key(f):
        v = f.split(os.sep)[-2]
        parts = []
        for p in v.replace("rc", ".").split("."):
            parts.append(int(p) if p.isdigit() else 0)
        return parts
    return max(files, key=key)


def largest(root, system, pattern):
    """The version's table with the most rows (MoE: later versions recollect a few shapes and
    declare the rest reused, see their reuse.yaml)."""
    files = glob.glob(os.path.join(root, system, pattern))
    if not files:
        return None
    return max(files, key=lambda f: (len(pd.read_parquet(f, columns=["latency"])), f))


def main(wheel_dir):
    root = os.path.join(wheel_dir, "aiconfigurator_core", "systems", "data")
    rows, sources = [], []

    def source(path):
        rel = os.path.relpath(path, wheel_dir)
        if rel not in [s[1] for s in sources]:
            sources.append((f"aic{len(sources) + 1}", rel))
        return next(s[0] for s in sources if s[1] == rel)

    for system, gpu in SYSTEMS.items():
        f = newest(root, system, "gemm/trtllm/*/gemm_perf.parquet")
        d = pd.read_parquet(f)
        sid = source(f)
        d = d[d.gemm_dtype.isin(DTYPES) & d.m.isin(GEMM_M)]
        d = d[[(n, k) in GEMM_NK for n, k in zip(d.n, d.k)]]
        for r in d.itertuples():
            rows.append([gpu, "gemm", DTYPES[r.gemm_dtype], r.m, r.n, r.k, "", "", "", "", "",
                         "", "", "", "", f"{r.latency:.6g}", sid])

        f = newest(root, system, "attention/trtllm/*/generation_attention_perf.parquet")
        d = pd.read_parquet(f)
        sid = source(f)
        d = d[(d.head_dim == 128) & (d.window_size == 0) & (d.beam_width == 1)
              & d.batch_size.isin(DECODE_BATCH) & d.step.isin(DECODE_STEP)
              & d.kv_cache_dtype.isin(DTYPES)]
        d = d[[(h, kv) in HEADS for h, kv in zip(d.num_heads, d.num_key_value_heads)]]
        for r in d.itertuples():
            # `step` tokens are cached before the generated one: the context is step + 1.
            rows.append([gpu, "decode_attention", DTYPES[r.kv_cache_dtype], "", "", "",
                         r.batch_size, r.step + 1, r.num_heads, r.num_key_value_heads,
                         r.head_dim, "", "", "", "", f"{r.latency:.6g}", sid])

        f = newest(root, system, "attention/trtllm/*/context_attention_perf.parquet")
        d = pd.read_parquet(f)
        sid = source(f)
        d = d[(d.head_dim == 128) & (d.window_size == 0) & (d.attn_dtype == "bfloat16")
              & (d.kv_cache_dtype == "bfloat16") & d.batch_size.isin(PREFILL_BATCH)
              & d.isl.isin(PREFILL_ISL)]
        d = d[[(h, kv) in HEADS for h, kv in zip(d.num_heads, d.num_key_value_heads)]]
        for r in d.itertuples():
            rows.append([gpu, "prefill_attention", "bf16", "", "", "", r.batch_size, r.isl,
                         r.num_heads, r.num_key_value_heads, r.head_dim, "", "", "", "",
                         f"{r.latency:.6g}", sid])

        f = newest(root, system, "comm/trtllm/*/custom_allreduce_perf.parquet")
        d = pd.read_parquet(f)
        sid = source(f)
        d = d[d.allreduce_dtype == "bfloat16"]
        for r in d.itertuples():
            rows.append([gpu, "all_reduce", "bf16", "", "", "", "", "", "", "", "", r.num_gpus,
                         r.message_size, "", "", f"{r.latency:.6g}", sid])

    # The MoE tables come after the others, so that the older tables keep their source ids.
    for system, gpu in SYSTEMS.items():
        f = largest(root, system, "moe/trtllm/*/moe_perf.parquet")
        d = pd.read_parquet(f)
        sid = source(f)
        # Balanced routing where the table has it (A100's has only power-law skews): the
        # step's work counts experts touched under uniform routing, and a skew measured on
        # synthetic power-law routing is not the served models' (the engines' fitted
        # multipliers carry what real routing costs).
        dist = "balanced" if (d.distribution == "balanced").any() else "power_law_1.01"
        d = d[d.moe_dtype.isin(MOE_DTYPES) & d.kernel_source.isin(MOE_KERNELS)
              & (d.distribution == dist) & (d.moe_ep_size == 1)
              & d.moe_tp_size.isin(MOE_TP)]
        # NVFP4 on B200/GB200/B300/GB300: the table measures the CUTLASS backend only (its
        # `moe_torch_flow_min_latency` lane reads the experts faster than the HBM peak, so it
        # is not a whole-layer measurement), while TensorRT-LLM's DeepSeek R1 deployment guide
        # names the TRTLLM backend for NVFP4 on B200/GB200 ("The default moe backend is
        # CUTLASS, so for the best possible perf, one must set the moe_backend flag to
        # TRTLLM"). Left out there: inferplan takes the TRTLLM-gen MXFP4 table as the 4-bit
        # stand-in. The RTX PRO 6000 (SM120) keeps it: CUTLASS is its NVFP4 path.
        if system in ("b200_sxm", "gb200", "b300_sxm", "gb300"):
            d = d[d.moe_dtype != "nvfp4"]
        # MXFP4 as the GPU runs it: W4A8 where the table has it (Blackwell), else W4A16.
        if (d.moe_dtype == "w4a8_mxfp4_mxfp8").any():
            d = d[d.moe_dtype != "w4a16_mxfp4"]
        # The few MXFP4 shapes keep every token count.
        d = d[d.num_tokens.isin(MOE_TOKENS) | d.moe_dtype.str.contains("mxfp4")]
        for r in d.itertuples():
            # One call of the whole MoE layer on one GPU: m tokens of hidden size k, each routed
            # to top_k of the experts, whose gated FFNs have n = inter_size / TP columns here.
            rows.append([gpu, "moe", MOE_DTYPES[r.moe_dtype], r.num_tokens,
                         r.inter_size // r.moe_tp_size, r.hidden_size, "", "", "", "", "", "", "",
                         r.num_experts, r.topk, f"{r.latency:.6g}", sid])

    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "perf")
    rows.sort(key=lambda r: tuple(str(x) for x in r[:3]) + tuple(
        float(x) if x != "" else -1.0 for x in r[3:15]))
    with open(os.path.join(out, "kernels.csv"), "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(COLUMNS)
        w.writerows(rows)
    with open(os.path.join(out, "kernel_sources.csv"), "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["source", "package", "version", "path", "licence"])
        for sid, rel in sources:
            w.writerow([sid, PACKAGE, VERSION, rel, LICENCE])
    print(f"{len(rows)} rows from {len(sources)} tables", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/aic/ex")
