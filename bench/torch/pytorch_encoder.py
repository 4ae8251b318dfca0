#!/usr/bin/python3
"""PyTorch's own bert-base encoder on the weights of joulebench's, timed like
bench_encoder_forward's BM_BertBaseEncoder, by one of two paths:

  fused  torch.nn.TransformerEncoder (post-LN, GELU, batch_first) in eval mode under
         inference_mode: PyTorch's fused inference fast path
         (torch._transformer_encoder_layer_fwd), what a PyTorch user gets by default. The
         script checks that the fast path really ran and fails if it did not.
  eager  the same layers written op by op (Linear, matmul, softmax, GELU, LayerNorm), as
         Hugging Face's BertLayer computes them: PyTorch's per-op eager path.

Usage: pytorch_encoder.py WEIGHTS THREADS BATCH SEQ [SECONDS] [fused|eager]
Prints one JSON line: {"path", "batch", "seq", "threads", "ms_per_forward",
"cpu_ms_per_forward", "iterations", "other_processes_cpu_share"}.
"""
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

weights_path, threads, batch, seq = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 5.0
path = sys.argv[6] if len(sys.argv) > 6 else "fused"
if path not in ("fused", "eager"):
    sys.exit("pytorch_encoder.py: path must be fused or eager, not %r" % path)
torch.set_num_threads(threads)
state = torch.load(weights_path)
hidden_size, heads, layers, ffn = 768, 12, 12, 3072
head_dim = hidden_size // heads


def weights(i):
    p = "bert.encoder.layer.%d." % i
    return lambda name: state[p + name]


def fused_encoder():
    encoder_layers = []
    for i in range(layers):
        w = weights(i)
        layer = torch.nn.TransformerEncoderLayer(hidden_size, heads, ffn, dropout=0.0,
                                                 activation="gelu", layer_norm_eps=1e-12,
                                                 batch_first=True, norm_first=False)
        with torch.no_grad():
            layer.self_attn.in_proj_weight.copy_(torch.cat([w("attention.self.query.weight"),
                                                            w("attention.self.key.weight"),
                                                            w("attention.self.value.weight")]))
            layer.self_attn.in_proj_bias.copy_(torch.cat([w("attention.self.query.bias"),
                                                          w("attention.self.key.bias"),
                                                          w("attention.self.value.bias")]))
            layer.self_attn.out_proj.weight.copy_(w("attention.output.dense.weight"))
            layer.self_attn.out_proj.bias.copy_(w("attention.output.dense.bias"))
            layer.norm1.weight.copy_(w("attention.output.LayerNorm.weight"))
            layer.norm1.bias.copy_(w("attention.output.LayerNorm.bias"))
            layer.linear1.weight.copy_(w("intermediate.dense.weight"))
            layer.linear1.bias.copy_(w("intermediate.dense.bias"))
            layer.linear2.weight.copy_(w("output.dense.weight"))
            layer.linear2.bias.copy_(w("output.dense.bias"))
            layer.norm2.weight.copy_(w("output.LayerNorm.weight"))
            layer.norm2.bias.copy_(w("output.LayerNorm.bias"))
        encoder_layers.append(layer)
    # nn.TransformerEncoder deep-copies one layer; build it, then put each layer's weights in.
    encoder = torch.nn.TransformerEncoder(encoder_layers[0], num_layers=layers,
                                          enable_nested_tensor=False)
    encoder.layers = torch.nn.ModuleList(encoder_layers)
    return encoder.eval()


class EagerLayer(torch.nn.Module):
    def __init__(self, w):
        super().__init__()
        self.w = {k: w(k) for k in (
            "attention.self.query.weight", "attention.self.query.bias",
            "attention.self.key.weight", "attention.self.key.bias",
            "attention.self.value.weight", "attention.self.value.bias",
            "attention.output.dense.weight", "attention.output.dense.bias",
            "attention.output.LayerNorm.weight", "attention.output.LayerNorm.bias",
            "intermediate.dense.weight", "intermediate.dense.bias",
            "output.dense.weight", "output.dense.bias",
            "output.LayerNorm.weight", "output.LayerNorm.bias")}

    def forward(self, x):
        w = self.w
        b, s, _ = x.shape

        def heads_of(t):
            return t.view(b, s, heads, head_dim).transpose(1, 2)

        q = heads_of(F.linear(x, w["attention.self.query.weight"], w["attention.self.query.bias"]))
        k = heads_of(F.linear(x, w["attention.self.key.weight"], w["attention.self.key.bias"]))
        v = heads_of(F.linear(x, w["attention.self.value.weight"], w["attention.self.value.bias"]))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(head_dim)
        context = torch.matmul(torch.softmax(scores, -1), v).transpose(1, 2).reshape(b, s, -1)
        attended = F.linear(context, w["attention.output.dense.weight"],
                            w["attention.output.dense.bias"])
        x = F.layer_norm(x + attended, (hidden_size,), w["attention.output.LayerNorm.weight"],
                         w["attention.output.LayerNorm.bias"], 1e-12)
        ff = F.linear(F.gelu(F.linear(x, w["intermediate.dense.weight"],
                                      w["intermediate.dense.bias"])),
                      w["output.dense.weight"], w["output.dense.bias"])
        return F.layer_norm(x + ff, (hidden_size,), w["output.LayerNorm.weight"],
                            w["output.LayerNorm.bias"], 1e-12)


def eager_encoder():
    return torch.nn.Sequential(*[EagerLayer(weights(i)) for i in range(layers)]).eval()


encoder = fused_encoder() if path == "fused" else eager_encoder()

# Count the fused kernel's calls: a silent fall-back to the slow path would make the
# reference meaningless.
fast_path_calls = 0
fused_kernel = torch._transformer_encoder_layer_fwd


def counting_kernel(*args, **kwargs):
    global fast_path_calls
    fast_path_calls += 1
    return fused_kernel(*args, **kwargs)


torch._transformer_encoder_layer_fwd = counting_kernel

def machine_cpu_seconds():
    """(busy, total) CPU seconds of the whole machine, from /proc/stat."""
    fields = [int(v) for v in open("/proc/stat").readline().split()[1:9]]
    ticks = os.sysconf("SC_CLK_TCK")
    return (sum(fields) - fields[3] - fields[4]) / ticks, sum(fields) / ticks


torch.manual_seed(2)
x = torch.randn(batch, seq, hidden_size)
with torch.inference_mode():
    encoder(x)  # warm-up
    if path == "fused" and fast_path_calls != layers:
        sys.exit("pytorch_encoder.py: PyTorch's fused fast path did not run (%d of %d layers); "
                 "the fused reference would be the slow path" % (fast_path_calls, layers))
    iterations = 0
    start = time.perf_counter()
    cpu_start = time.process_time()
    busy_start, total_start = machine_cpu_seconds()
    while True:
        encoder(x)
        iterations += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and iterations >= 3:
            break
    cpu = time.process_time() - cpu_start
    busy_end, total_end = machine_cpu_seconds()
# CPU time of the whole process (every thread): on a machine that other processes load, the
# wall time stretches but, at one thread, the CPU time per forward barely moves. The share of
# the machine's CPU time that other processes took says how loaded it was.
others = (busy_end - busy_start - cpu) / max(total_end - total_start, 1e-9)
print(json.dumps({"path": path, "batch": batch, "seq": seq, "threads": threads,
                  "ms_per_forward": elapsed / iterations * 1e3,
                  "cpu_ms_per_forward": cpu / iterations * 1e3, "iterations": iterations,
                  "other_processes_cpu_share": min(max(others, 0.0), 1.0)}))
