#!/usr/bin/python3
"""PyTorch's own torch.nn.TransformerEncoder (post-LN, GELU, batch_first) on the weights of
joulebench's bert-base encoder, timed like bench_encoder_forward's BM_BertBaseEncoder.

Usage: pytorch_encoder.py WEIGHTS THREADS BATCH SEQ [SECONDS]
Prints one JSON line: {"batch", "seq", "threads", "ms_per_forward", "iterations"}.
"""
import json
import sys
import time

import torch

weights_path, threads, batch, seq = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 5.0
torch.set_num_threads(threads)
state = torch.load(weights_path)
hidden_size, heads, layers, ffn = 768, 12, 12, 3072

encoder_layers = []
for i in range(layers):
    p = "bert.encoder.layer.%d." % i
    w = lambda name: state[p + name]
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
encoder.eval()

torch.manual_seed(2)
x = torch.randn(batch, seq, hidden_size)
with torch.inference_mode():
    encoder(x)  # warm-up
    iterations = 0
    start = time.perf_counter()
    while True:
        encoder(x)
        iterations += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and iterations >= 3:
            break
print(json.dumps({"batch": batch, "seq": seq, "threads": threads,
                  "ms_per_forward": elapsed / iterations * 1e3, "iterations": iterations}))
