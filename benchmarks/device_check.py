"""Check the step model's kernel-level efficiency terms against a real GPU.

    python3 benchmarks/device_check.py measure --out FILE.json   # on a machine with a CUDA GPU
    uv run python benchmarks/device_check.py compare FILE.json   # here: the planner's figures

The step model times a training step from a few kernel-level terms (planner/model/step.py):
the GEMM roofline at the accelerator's measured matmul ceiling (MAMF) x ``gemm_efficiency`` x
K / (K + ``gemm_k_overhead``); the FlashAttention core at ``attention_efficiency`` of that rate
(x ``fa2_hopper_ratio`` for FlashAttention-2 on Hopper, x s / (s + ``attention_fill_tokens``) at
sequence length s); elementwise work as passes over HBM at
``hbm_efficiency``. Those constants are fitted on published whole-step throughputs, never on a
kernel. ``measure`` times the kernels themselves, in isolation, at the shapes of Llama 3
8B/70B/405B and GPT-3 175B layers split over 1-8 tensor-parallel ranks; ``compare`` sets each
measurement beside what the planner's formula predicts for it.

This is a check, not an input: nothing in the planner reads a measurement, and CI has no GPU.
The fitted constants may also carry what a real step loses beside its kernels (communication
kernels holding SMs, allocator and launch gaps), so a kernel may read faster than planned;
on the H200 of 2026-11-30 the sustained GEMM rate under the power limit came out close to
the fitted in-step rate (docs/validation.md, kernel check).
The measurements of a run are kept in benchmarks/device/ with the date and device.

``measure`` needs only PyTorch (timed with CUDA events; random bf16 operands, never zeros;
operands rotated through several copies where they would fit in L2).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

# Layer shapes of public models: hidden, query width, key/value width, FFN width, gated FFN.
# Llama 3 8B/70B/405B (Llama 3 report, arXiv 2407.21783, Table 3); GPT-3 175B (Brown et al.
# 2020, Table 2.1: d_model 12288, 96 heads of 128, FFN 4 d_model).
MODELS = {
    "llama3-8b": (4096, 4096, 1024, 14336, True),
    "llama3-70b": (8192, 8192, 1024, 28672, True),
    "llama3-405b": (16384, 16384, 1024, 53248, True),
    "gpt3-175b": (12288, 12288, 12288, 49152, False),
}
TP = (1, 2, 4, 8)
TOKENS = (1024, 4096, 16384)   # tokens of a microbatch on a device
ATTN_SEQ = (512, 1024, 2048, 4096, 8192, 16384, 32768)
ATTN_TOKENS = 32768            # batch x sequence per attention call
ATTN_HEADS, HEAD_DIM = 32, 128  # Llama 3 8B's query heads (Llama 3 report, Table 3)
L2_BYTES = 60e6                # H100/H200 L2 is 50-60 MB: rotate operands below 4x that


def layer_gemms(hidden, q_w, kv_w, ffn, gated, tp):
    """(name, m-free (k, n)) of one layer's forward GEMMs on one tensor-parallel rank, as
    planner/model/step.py splits them (Korthikanti et al. 2022, sec. 4.2.2)."""
    return [("qkv", hidden, (q_w + 2 * kv_w) // tp),
            ("proj", q_w // tp, hidden),
            ("up", hidden, (2 if gated else 1) * ffn // tp),
            ("down", ffn // tp, hidden)]


def gemm_passes(tokens, k, n):
    """The three GEMMs of a linear layer in training, (m, k, n) each: forward Y = X W^T,
    data gradient dX = dY W, weight gradient dW = dY^T X (reduction over the tokens)."""
    return {"fwd": (tokens, k, n), "dgrad": (tokens, n, k), "wgrad": (n, tokens, k)}


# ------------------------------------------------------------------------------------------
# measure (PyTorch, CUDA)
# ------------------------------------------------------------------------------------------

def _bench(torch, fn, min_batch_s=0.025, batches=5):
    """Median seconds of one call of ``fn``: warm-up, then ``batches`` batches of back-to-back
    calls timed with CUDA events, each batch at least ``min_batch_s`` long."""
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    fn()
    end.record()
    end.synchronize()
    one = max(start.elapsed_time(end) / 1e3, 1e-6)
    reps = int(min(500, max(3, min_batch_s / one)))
    times = []
    for _ in range(batches):
        start.record()
        for _ in range(reps):
            fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1e3 / reps)
    times.sort()
    return times[len(times) // 2]


def _operands(torch, shapes, dtype):
    """Copies of random operands of ``shapes``, enough that together they exceed the L2."""
    one = sum(a * b for a, b in shapes) * torch.finfo(dtype).bits / 8
    copies = max(1, min(8, int(4 * L2_BYTES // one) + 1))
    return [[torch.randn(s, device="cuda", dtype=torch.float32).to(dtype) for s in shapes]
            for _ in range(copies)]


def _rotating(sets, call):
    state = {"i": 0}

    def fn():
        ops = sets[state["i"] % len(sets)]
        state["i"] += 1
        return call(*ops)
    return fn


def measure_gemms(torch):
    """Each distinct (m, k, n) of the layer GEMMs in bf16: X (m, k) @ W^T with W stored (n, k),
    as torch.nn.functional.linear runs it."""
    shapes = set()
    for hidden, q_w, kv_w, ffn, gated in MODELS.values():
        for tp in TP:
            for _, k, n in layer_gemms(hidden, q_w, kv_w, ffn, gated, tp):
                for tokens in TOKENS:
                    shapes.update(gemm_passes(tokens, k, n).values())
    rows = []
    for m, k, n in sorted(shapes):
        sets = _operands(torch, [(m, k), (n, k)], torch.bfloat16)
        t = _bench(torch, _rotating(sets, lambda x, w: torch.nn.functional.linear(x, w)))
        rows.append({"m": m, "k": k, "n": n, "seconds": t,
                     "tflops": 2.0 * m * k * n / t / 1e12})
        del sets
    torch.cuda.empty_cache()
    return rows


def measure_ceiling(torch):
    """The single-GEMM ceiling (MAMF, Bekman's method: the best of a sweep of large shapes), in
    bf16 and, where torch._scaled_mm runs, FP8 (e4m3, per-tensor scales, bf16 output)."""
    sizes = [(m, k, n) for m in (4096, 8192, 16384) for k in (4096, 8192, 16384)
             for n in (4096, 8192, 16384)]
    out = {"bf16": [], "fp8": []}
    for m, k, n in sizes:
        sets = _operands(torch, [(m, k), (n, k)], torch.bfloat16)
        t = _bench(torch, _rotating(sets, lambda x, w: torch.nn.functional.linear(x, w)))
        out["bf16"].append({"m": m, "k": k, "n": n, "tflops": 2.0 * m * k * n / t / 1e12})
        try:
            f8 = [[x.to(torch.float8_e4m3fn), w.to(torch.float8_e4m3fn)] for x, w in sets]
            one = torch.ones((), device="cuda", dtype=torch.float32)
            t8 = _bench(torch, _rotating(f8, lambda x, w, one=one: torch._scaled_mm(
                x, w.t(), scale_a=one, scale_b=one, out_dtype=torch.bfloat16)))
            out["fp8"].append({"m": m, "k": k, "n": n, "tflops": 2.0 * m * k * n / t8 / 1e12})
            del f8
        except Exception as exc:  # noqa: BLE001 - record why FP8 did not run, keep going
            out["fp8_error"] = f"{type(exc).__name__}: {exc}"[:300]
        del sets
    torch.cuda.empty_cache()
    return out


def measure_attention(torch):
    """Causal attention, bf16, head dim 128, 32 heads, ~32K tokens a call, forward and forward
    plus backward, under each SDPA backend that runs: 'flash' is FlashAttention-2 (PyTorch's
    own build), 'cudnn' the cuDNN fused kernel written for Hopper."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    backends = {"flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION}
    rows = []
    f = torch.nn.functional.scaled_dot_product_attention
    for seq in ATTN_SEQ:
        batch = max(1, ATTN_TOKENS // seq)
        shape = (batch, ATTN_HEADS, seq, HEAD_DIM)
        # causal: half of the 4 b h s^2 d of QK^T and PV (Dao 2023, sec. 3 and fig. 5)
        fwd_flops = 4.0 * batch * ATTN_HEADS * seq * seq * HEAD_DIM / 2.0
        q, k, v = (torch.randn(shape, device="cuda", dtype=torch.bfloat16, requires_grad=True)
                   for _ in range(3))
        grad = torch.randn(shape, device="cuda", dtype=torch.bfloat16)
        for name, backend in backends.items():
            try:
                qkv = (q, k, v)
                with sdpa_kernel([backend]):
                    t_f = _bench(torch, lambda qkv=qkv: f(*qkv, is_causal=True))
                    t_fb = _bench(torch, lambda qkv=qkv, g=grad: torch.autograd.grad(
                        f(*qkv, is_causal=True), qkv, g))
                rows.append({"backend": name, "seq": seq, "batch": batch,
                             "fwd_s": t_f, "bwd_s": t_fb - t_f,
                             "fwd_tflops": fwd_flops / t_f / 1e12,
                             "bwd_tflops": 2.5 * fwd_flops / (t_fb - t_f) / 1e12})
            except Exception as exc:  # noqa: BLE001 - a backend may not run this shape
                rows.append({"backend": name, "seq": seq, "error": f"{type(exc).__name__}: "
                             f"{exc}"[:200]})
    torch.cuda.empty_cache()
    return rows


def measure_hbm(torch):
    """Device-to-device copy of 4 GiB (bytes read + written per second)."""
    n = 2 ** 31
    src = torch.empty(n, device="cuda", dtype=torch.bfloat16).normal_()
    dst = torch.empty_like(src)
    t = _bench(torch, lambda: dst.copy_(src))
    torch.cuda.empty_cache()
    return {"bytes": 2 * 2 * n, "seconds": t, "bytes_per_s": 2 * 2 * n / t}


def _eager_layer_elementwise(torch, x, attn_out, q, k, gate, up, down_out, w1, w2, cos, sin):
    """The elementwise work of one Llama layer's forward as eager PyTorch writes it (Hugging
    Face LlamaRMSNorm, rotate-half RoPE, SwiGLU, two residual adds): everything but the GEMMs
    and the attention core."""
    def rmsnorm(t, w):
        tf = t.float()
        return w * (tf * torch.rsqrt(tf.pow(2).mean(-1, keepdim=True) + 1e-5)).to(t.dtype)

    def rope(t):
        t1, t2 = t.chunk(2, dim=-1)
        return t * cos + torch.cat((-t2, t1), dim=-1) * sin

    n1 = rmsnorm(x, w1)
    qr, kr = rope(q), rope(k)
    h1 = x + attn_out
    n2 = rmsnorm(h1, w2)
    act = torch.nn.functional.silu(gate) * up
    return n1, qr, kr, n2, act, h1 + down_out


def measure_elementwise(torch, tokens=16384):
    """One Llama 3 8B layer's elementwise forward (and forward + backward) on ``tokens``
    tokens, eager and under torch.compile, to compare with the model's passes over HBM."""
    hidden, q_w, kv_w, ffn, _ = MODELS["llama3-8b"]
    hd = HEAD_DIM

    def bf(*shape, grad=False):
        return torch.randn(shape, device="cuda", dtype=torch.bfloat16, requires_grad=grad)
    x, attn_out, down_out = (bf(tokens, hidden, grad=True) for _ in range(3))
    q = bf(tokens, q_w // hd, hd, grad=True)
    k = bf(tokens, kv_w // hd, hd, grad=True)
    gate, up = bf(tokens, ffn, grad=True), bf(tokens, ffn, grad=True)
    w1, w2 = bf(hidden, grad=True), bf(hidden, grad=True)
    cos, sin = bf(tokens, 1, hd), bf(tokens, 1, hd)
    args = (x, attn_out, q, k, gate, up, down_out, w1, w2, cos, sin)
    leaves = [t for t in args if t.requires_grad]
    result = {"tokens": tokens, "hidden": hidden, "ffn": ffn, "q_width": q_w, "kv_width": kv_w}
    variants = {"eager": lambda *a: _eager_layer_elementwise(torch, *a)}
    try:
        variants["compiled"] = torch.compile(variants["eager"])
    except Exception as exc:  # noqa: BLE001
        result["compile_error"] = f"{type(exc).__name__}: {exc}"[:200]
    for name, fn in variants.items():
        try:
            t_f = _bench(torch, lambda fn=fn: fn(*args))
            outs_like = [torch.randn_like(o) for o in fn(*args)]

            def fwd_bwd(fn=fn, outs_like=outs_like):  # gradients returned, not accumulated
                torch.autograd.grad(fn(*args), leaves, outs_like)
            t_fb = _bench(torch, fwd_bwd)
            result[name] = {"fwd_s": t_f, "bwd_s": t_fb - t_f}
        except Exception as exc:  # noqa: BLE001
            result[name] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
    torch.cuda.empty_cache()
    return result


# (model, layers, sequence, sequences per microbatch)
LAYER_CASES = (("llama3-8b", 4, 8192, 1), ("llama3-70b", 2, 8192, 1), ("llama3-8b", 4, 2048, 4))


def _block(torch, hidden, q_w, kv_w, ffn, eps=1e-5):
    """A Llama-style decoder block in plain PyTorch: RMSNorm (PyTorch's own rms_norm), fused
    QKV projection, rotate-half RoPE, causal SDPA with grouped-query heads, output projection,
    RMSNorm, fused gate/up projection, SwiGLU, down projection, two residual adds."""
    nn, F = torch.nn, torch.nn.functional
    hd = HEAD_DIM

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.wqkv = nn.Linear(hidden, q_w + 2 * kv_w, bias=False)
            self.wo = nn.Linear(q_w, hidden, bias=False)
            self.w13 = nn.Linear(hidden, 2 * ffn, bias=False)
            self.w2 = nn.Linear(ffn, hidden, bias=False)
            self.n1 = nn.Parameter(torch.ones(hidden))
            self.n2 = nn.Parameter(torch.ones(hidden))

        def forward(self, x, cos, sin):
            b, s, _ = x.shape

            def rope(t):
                t1, t2 = t.chunk(2, dim=-1)
                return t * cos + torch.cat((-t2, t1), dim=-1) * sin
            q, k, v = self.wqkv(F.rms_norm(x, (hidden,), self.n1, eps)).split(
                (q_w, kv_w, kv_w), dim=-1)
            q = rope(q.view(b, s, q_w // hd, hd)).transpose(1, 2)
            k = rope(k.view(b, s, kv_w // hd, hd)).transpose(1, 2)
            v = v.view(b, s, kv_w // hd, hd).transpose(1, 2)
            rep = q_w // kv_w  # grouped-query heads expanded to the query heads (one copy)
            k, v = (t.repeat_interleave(rep, dim=1) for t in (k, v))
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.wo(o.transpose(1, 2).reshape(b, s, q_w))
            g, u = self.w13(F.rms_norm(x, (hidden,), self.n2, eps)).chunk(2, dim=-1)
            return x + self.w2(F.silu(g) * u)

    return Block


def measure_layers(torch, save=None):
    """Forward + backward of a stack of Llama 3 blocks on one GPU (a microbatch of 8,192 tokens,
    bf16 weights, no communication), eager and under torch.compile, with the cuDNN and the
    FlashAttention-2 attention kernels: the step model's compute term, measured whole."""
    rows = []
    for model, layers, seq, batch in LAYER_CASES:
        rows.extend(_layer_case(torch, model, layers, seq, batch))
        if save:
            save(rows)
        torch.cuda.empty_cache()
    return rows


def _layer_case(torch, model, layers, seq, batch):
    from torch.nn.attention import SDPBackend, sdpa_kernel
    hidden, q_w, kv_w, ffn, _ = MODELS[model]
    block = _block(torch, hidden, q_w, kv_w, ffn)
    stack = torch.nn.ModuleList([block() for _ in range(layers)]).to("cuda", torch.bfloat16)
    for prm in stack.parameters():
        if prm.dim() > 1:
            torch.nn.init.normal_(prm, std=0.02)
    x = torch.randn(batch, seq, hidden, device="cuda", dtype=torch.bfloat16, requires_grad=True)
    cos = torch.randn(1, seq, 1, HEAD_DIM, device="cuda", dtype=torch.bfloat16)
    sin = torch.randn_like(cos)
    grad = torch.randn_like(x)
    params = list(stack.parameters())

    def run(x):
        for blk in stack:
            x = blk(x, cos, sin)
        return x

    def step(fn):
        for prm in params:
            prm.grad = None
        torch.autograd.backward(fn(x), grad)

    rows = []
    variants = {"eager": run}
    try:
        variants["compiled"] = torch.compile(run)
    except Exception as exc:  # noqa: BLE001
        rows.append({"model": model, "error": f"compile: {exc}"[:200]})
    kinds = {"cudnn": SDPBackend.CUDNN_ATTENTION, "flash": SDPBackend.FLASH_ATTENTION}
    for name, fn in variants.items():
        for backend, kind in kinds.items():
            if name == "compiled" and backend == "flash":
                continue  # one compile per case: the device time is short
            row = {"model": model, "layers": layers, "seq": seq, "batch": batch, "variant": name,
                   "attention": backend}
            try:
                with sdpa_kernel([kind]):
                    row["fwd_s"] = _bench(torch, lambda fn=fn: fn(x))
                    row["fwd_bwd_s"] = _bench(torch, lambda fn=fn: step(fn))
            except Exception as exc:  # noqa: BLE001
                row["error"] = f"{type(exc).__name__}: {exc}"[:300]
            rows.append(row)
        print(f"layers {model} {seq} {name} done", flush=True)
    return rows


def measure_burst(torch, size=8192):
    """The bf16 ceiling of one square GEMM timed two ways: a burst of ten products after three
    warm-ups (as a quick check reads it) and three seconds of back-to-back products (as a
    training step runs them, under the card's power limit)."""
    a = torch.randn(size, size, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(size, size, device="cuda", dtype=torch.bfloat16)
    flops = 2.0 * size ** 3
    time.sleep(2.0)  # let the card cool to idle clocks' power state
    for _ in range(3):
        a @ b
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(10):
        a @ b
    end.record()
    end.synchronize()
    burst = flops * 10 / (start.elapsed_time(end) / 1e3) / 1e12
    per = []
    t_end = time.time() + 3.0
    while time.time() < t_end:
        start.record()
        for _ in range(20):
            a @ b
        end.record()
        end.synchronize()
        per.append(flops * 20 / (start.elapsed_time(end) / 1e3) / 1e12)
    return {"size": size, "burst_tflops": burst, "sustained_tflops": sorted(per)[len(per) // 2],
            "sustained_last_tflops": per[-1], "batches": len(per)}


# Expert FFN shapes (hidden, expert FFN width): DeepSeek-V3 7168 x 2048 (DeepSeek-V3 report,
# sec. 4.2: 256 routed experts of intermediate size 2048); Mixtral 8x7B 4096 x 14336 (Mixtral
# of Experts, arXiv 2401.04088, Table 1); OLMoE-1B-7B 2048 x 1024 (OLMoE, arXiv 2409.02060,
# Table 1).
EXPERTS = {"deepseek-v3": (7168, 2048), "mixtral-8x7b": (4096, 14336), "olmoe": (2048, 1024)}
EXPERT_TOKENS = (128, 256, 512, 1024, 2048, 4096)  # tokens routed to each local expert
EXPERTS_LOCAL = 8


def measure_experts(torch):
    """The expert GEMMs of one MoE layer on one device: EXPERTS_LOCAL experts, each on the
    tokens routed to it, as a loop of separate GEMMs and as one grouped GEMM
    (torch._grouped_mm) where it runs; forward gate/up and down projections."""
    rows = []
    for model, (hidden, ffn) in EXPERTS.items():
        for m in EXPERT_TOKENS:
            for name, k, n in (("up", hidden, 2 * ffn), ("down", ffn, hidden)):
                row = {"model": model, "gemm": name, "m": m, "k": k, "n": n,
                       "experts": EXPERTS_LOCAL}
                xs = [torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
                      for _ in range(EXPERTS_LOCAL)]
                ws = [torch.randn(n, k, device="cuda", dtype=torch.bfloat16)
                      for _ in range(EXPERTS_LOCAL)]
                row["loop_s"] = _bench(torch, lambda xs=xs, ws=ws: [
                    torch.nn.functional.linear(x, w) for x, w in zip(xs, ws)])
                try:
                    a = torch.cat(xs)
                    b = torch.stack(ws).transpose(-2, -1)  # (experts, k, n), column-major
                    offs = torch.arange(1, EXPERTS_LOCAL + 1, device="cuda",
                                        dtype=torch.int32) * m
                    row["grouped_s"] = _bench(torch, lambda a=a, b=b, offs=offs:
                                              torch._grouped_mm(a, b, offs=offs))
                except Exception as exc:  # noqa: BLE001
                    row["grouped_error"] = f"{type(exc).__name__}: {exc}"[:200]
                rows.append(row)
    torch.cuda.empty_cache()
    return rows


def measure(out: Path, only: list[str] | None = None) -> None:
    import torch
    if not torch.cuda.is_available():
        sys.exit("measure needs a CUDA GPU")
    t0 = time.time()
    props = torch.cuda.get_device_properties(0)
    report = {"device": torch.cuda.get_device_name(0), "sms": props.multi_processor_count,
              "torch": torch.__version__, "cuda": torch.version.cuda,
              "cudnn": torch.backends.cudnn.version(), "date": time.strftime("%Y-%m-%d")}
    torch.backends.cuda.matmul.allow_tf32 = False
    steps = [("hbm", measure_hbm), ("burst", measure_burst), ("ceiling", measure_ceiling),
             ("gemms", measure_gemms), ("attention", measure_attention),
             ("elementwise", measure_elementwise), ("layers", measure_layers),
             ("experts", measure_experts)]
    steps = [(k, f) for k, f in steps if not only or k in only]
    for key, step in steps:
        s0 = time.time()
        try:
            if key == "layers":
                def save(rows):
                    out.write_text(json.dumps(dict(report, layers=rows), indent=1))
                report[key] = step(torch, save)
            else:
                report[key] = step(torch)
        except Exception as exc:  # noqa: BLE001 - keep the other steps' measurements
            report[key] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
        report.setdefault("seconds", {})[key] = round(time.time() - s0, 1)
        print(f"{key}: {time.time() - s0:.1f} s", flush=True)
        out.write_text(json.dumps(report, indent=1))
    report["seconds"]["total"] = round(time.time() - t0, 1)
    out.write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v for k, v in report.items() if k not in ("gemms", "ceiling",
                                                                    "attention")})[:8000],
          flush=True)


# ------------------------------------------------------------------------------------------
# compare (the planner's formulas, on this machine)
# ------------------------------------------------------------------------------------------

# How each measured variant is planned: the stack profile whose elementwise passes it runs,
# and whether its attention kernel is FlashAttention-2 (planner/frameworks.py).
LAYER_STACKS = {("eager", "flash"): ("fsdp2", True), ("eager", "cudnn"): ("fsdp2", False),
                ("compiled", "cudnn"): ("torchtitan", False)}


def planner_hardware(gpu: str, asm=None):
    """The step model's view of one ``gpu`` at bf16, and the assumptions it runs with."""
    from planner.assumptions import DEFAULT
    from planner.catalog import catalog
    from planner.plan.cluster import hardware_for, networks
    cat = catalog()
    acc = cat.accelerator(gpu)
    asm = asm or DEFAULT
    up, out = networks(cat, acc, None)
    return hardware_for(acc, up, out, "bf16", asm, {}), asm


def gemm_table(report: dict, gpu: str) -> dict:
    """Each measured GEMM beside the model's roofline time for it (step.gemm_s), and the
    K fill/drain term's share of that time."""
    import numpy as np

    from planner.model.step import gemm_s
    hw, asm = planner_hardware(gpu)
    g = report["gemms"]
    m, k, n = (np.array([r[x] for r in g], dtype=float) for x in "mkn")
    measured = np.array([r["seconds"] for r in g])
    model = gemm_s(m, k, n, hw, asm)
    no_k = gemm_s(m, k, n, hw, asm.with_(gemm_k_overhead=0.0))
    return {"m": m, "k": k, "n": n, "measured_s": measured, "model_s": model,
            "model_no_k_s": no_k}


def attention_table(report: dict, gpu: str) -> list[dict]:
    """Measured attention TFLOP/s beside the rate the model times the core at: the tuned
    kernel's attention_efficiency x the in-step GEMM rate, x fa2_hopper_ratio for
    FlashAttention-2 on Hopper (planner/plan/cluster.py), x the fill at the call's sequence
    length (step.attention_fill)."""
    from planner.model.step import attention_fill
    hw, asm = planner_hardware(gpu)
    tuned = hw.attention_flops * asm.attention_efficiency
    fa2 = planner_hardware(gpu, asm.with_(flash_attention_2=True))[0].attention_flops \
        * asm.attention_efficiency
    rows = []
    for r in report["attention"]:
        if "error" in r:
            continue
        model = (fa2 if r["backend"] == "flash" else tuned) \
            * float(attention_fill(r["seq"], asm.attention_fill_tokens))
        both = 3.5 / (1.0 / r["fwd_tflops"] + 2.5 / r["bwd_tflops"])  # fwd + 2.5x bwd FLOPs
        rows.append(dict(r, fwd_bwd_tflops=both, model_tflops=model / 1e12))
    return rows


def layer_table(report: dict, gpu: str) -> list[dict]:
    """Measured forward + backward of each stack of blocks beside the step model's compute
    term for it (step.evaluate, one device, one microbatch, no recompute)."""
    import numpy as np

    from planner.assumptions import DEFAULT
    from planner.frameworks import for_framework
    from planner.model.step import evaluate
    from planner.specs import Architecture
    rows = []
    for r in report.get("layers", []):
        if "error" in r:
            continue
        hidden, q_w, kv_w, ffn, gated = MODELS[r["model"]]
        framework, fa2 = LAYER_STACKS[(r["variant"], r["attention"])]
        asm = for_framework(DEFAULT, framework).with_(flash_attention_2=fa2)
        hw = planner_hardware(gpu, asm)[0]
        arch = Architecture(layers=r["layers"], hidden=hidden, heads=q_w // HEAD_DIM,
                            kv_heads=kv_w // HEAD_DIM, ffn=ffn, vocab=8,
                            ffn_type="gated" if gated else "plain")
        tokens = r["seq"] * r["batch"]
        out = evaluate(arch, r["seq"], tokens, hw, 1, 1, 1, 1, 1, r["batch"], 1, 0, 0, asm)
        model = float(np.asarray(out["time"]["compute"]))
        rows.append(dict(r, framework=framework, model_s=model,
                         measured_over_model=r["fwd_bwd_s"] / model))
    return rows


def expert_table(report: dict, gpu: str) -> list[dict]:
    """Measured expert GEMMs beside the model's time for them: experts x gemm_s(tokens per
    expert, k, n), as step.evaluate times an MoE layer's experts."""
    from planner.model.step import gemm_s
    hw, asm = planner_hardware(gpu)
    rows = []
    for r in report.get("experts", []):
        model = float(gemm_s(r["m"], r["k"], r["n"], hw, asm, r["experts"]))
        flops = 2.0 * r["m"] * r["k"] * r["n"] * r["experts"]
        rows.append(dict(r, model_s=model, grouped_tflops=flops / r["grouped_s"] / 1e12
                         if "grouped_s" in r else float("nan"),
                         model_tflops=flops / model / 1e12))
    return rows


def render(report: dict, gpu: str) -> str:
    """The comparison as text tables (docs/validation.md, kernel check)."""
    import numpy as np
    from tabulate import tabulate

    hw, asm = planner_hardware(gpu)
    out = [f"{report['device']}, torch {report.get('torch')}, CUDA {report.get('cuda')}, "
           f"{report.get('date')}"]
    peak = hw.peak_flops / 1e12
    mamf = peak * hw.matmul_fraction / asm.gemm_efficiency
    step_rate = peak * hw.matmul_fraction
    lines = [("catalog MAMF (bf16)", mamf), ("model's in-step GEMM rate (x gemm_efficiency "
                                             f"{asm.gemm_efficiency})", step_rate)]
    if "burst" in report:
        b = report["burst"]
        lines += [(f"measured {b['size']}^3 burst (10 products)", b["burst_tflops"]),
                  ("measured same, sustained 3 s (median)", b["sustained_tflops"])]
    if "ceiling" in report and report["ceiling"].get("bf16"):
        lines.append(("measured best of 27 large shapes, sustained",
                      max(r["tflops"] for r in report["ceiling"]["bf16"])))
    out.append(tabulate([(a, f"{v:.0f}") for a, v in lines], ["bf16 GEMM", "TFLOP/s"]))
    if "gemms" in report:
        t = gemm_table(report, gpu)
        ratio, ratio0 = t["model_s"] / t["measured_s"], t["model_no_k_s"] / t["measured_s"]
        rows = []
        for lo, hi in ((0, 2048), (2048, 4096), (4096, 8192), (8192, 16384), (16384, 1e9)):
            sel = (t["k"] >= lo) & (t["k"] < hi)
            if sel.any():
                tf = 2 * t["m"][sel] * t["k"][sel] * t["n"][sel] / t["measured_s"][sel] / 1e12
                rows.append((f"{lo:.0f}-{hi:.0f}" if hi < 1e9 else f">= {lo:.0f}",
                             int(sel.sum()), f"{np.median(tf):.0f}",
                             f"{np.median(ratio[sel]):.2f}", f"{np.median(ratio0[sel]):.2f}"))
        rows.append(("all", len(ratio), "", f"{np.median(ratio):.2f}",
                     f"{np.median(ratio0):.2f}"))
        out.append(tabulate(rows, ["K", "GEMMs", "measured TFLOP/s (median)",
                                   f"model/measured time (k0={asm.gemm_k_overhead:.0f})",
                                   "same, k0=0"])
                   + f"\nmean absolute error of the model's GEMM time: "
                   f"{np.mean(np.abs(ratio - 1)):.1%} (k0={asm.gemm_k_overhead:.0f}), "
                   f"{np.mean(np.abs(ratio0 - 1)):.1%} (k0=0)")
    if "attention" in report:
        rows = [(r["backend"], r["seq"], f"{r['fwd_tflops']:.0f}", f"{r['bwd_tflops']:.0f}",
                 f"{r['fwd_bwd_tflops']:.0f}", f"{r['model_tflops']:.0f}")
                for r in attention_table(report, gpu)]
        out.append(tabulate(rows, ["attention", "seq", "fwd TFLOP/s", "bwd", "fwd+bwd",
                                   "model"]))
    if "elementwise" in report:
        e = report["elementwise"]
        h, f = e["hidden"], e["ffn"]
        one_pass = e["tokens"] * (20.0 * h + 6.0 * f) / (hw.hbm_bytes_per_s * asm.hbm_efficiency)
        rows = [(name, f"{e[name]['fwd_s'] / one_pass:.2f}",
                 f"{e[name]['bwd_s'] / one_pass:.2f}")
                for name in ("eager", "compiled") if "fwd_s" in e.get(name, {})]
        out.append(tabulate(rows, ["elementwise (HF-style Llama layer)", "fwd passes",
                                   "bwd passes"]))
    if report.get("layers"):
        rows = [(r["model"], r["layers"], f"{r['batch']}x{r['seq']}", r["variant"],
                 r["attention"], r["framework"], f"{r['fwd_bwd_s'] * 1e3:.1f}",
                 f"{r['model_s'] * 1e3:.1f}", f"{r['measured_over_model']:.2f}")
                for r in layer_table(report, gpu)]
        out.append(tabulate(rows, ["model", "layers", "tokens", "variant", "attention",
                                   "planned as", "measured ms", "model ms",
                                   "measured/model"]))
    if report.get("experts"):
        rows = [(r["model"], r["gemm"], r["m"], r["k"], r["n"],
                 f"{r['grouped_tflops']:.0f}", f"{r['model_tflops']:.0f}",
                 f"{r['model_s'] / r['grouped_s']:.2f}" if "grouped_s" in r else "n/a")
                for r in expert_table(report, gpu)]
        out.append(tabulate(rows, ["experts of", "GEMM", f"tokens/expert (x{EXPERTS_LOCAL})",
                                   "K", "N", "grouped TFLOP/s", "model TFLOP/s",
                                   "model/measured time"]))
    return "\n\n".join(out)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure", help="time the kernels on this machine's GPU (PyTorch)")
    m.add_argument("--out", type=Path, required=True)
    m.add_argument("--only", nargs="*", help="measure these steps only (hbm, burst, ceiling, "
                   "gemms, attention, elementwise, layers, experts)")
    c = sub.add_parser("compare", help="the planner's prediction beside each measurement")
    c.add_argument("file", type=Path, nargs="+", help="measurement files of one device")
    c.add_argument("--gpu", default="h200", help="catalog accelerator the file was measured on")
    args = p.parse_args(argv)
    if args.cmd == "measure":
        measure(args.out, args.only)
    else:
        report = {}
        for f in args.file:
            report.update(json.loads(f.read_text()))
        print(render(report, args.gpu))


if __name__ == "__main__":
    main()
