#!/usr/bin/python3
"""Reference for tests/torch/int8_dense_layers_test.cc: joulebench's encoder layers rebuilt in
PyTorch with one nn.Linear per dense layer (as Hugging Face's BERT has them), run in fp32 and
after torch.ao.quantization.quantize_dynamic({nn.Linear}, dtype=torch.qint8): the int8 outputs
joulebench's own quantization must reproduce.

Usage: int8_dynamic_reference.py INPUT OUTPUT ENGINE
INPUT  a dict saved by joulebench (torch::pickle_save): "hidden" [B, S, H] fp32, "mask" [B, S]
       (1 real token, 0 padding), "num_heads", "num_layers", "eps" and the layers' weights
       named as Hugging Face's BERT ("layer.N.attention.self.query.weight", ...).
OUTPUT torch.save({"int8": [B, S, H], "fp32": [B, S, H], "quantized_layers": n}).
ENGINE the quantized engine joulebench's libtorch uses (torch.backends.quantized.engine).
"""
import math
import sys

import torch


class Layer(torch.nn.Module):
    def __init__(self, weights, prefix, hidden, heads, intermediate, eps):
        super().__init__()
        self.heads = heads
        self.query = torch.nn.Linear(hidden, hidden)
        self.key = torch.nn.Linear(hidden, hidden)
        self.value = torch.nn.Linear(hidden, hidden)
        self.attention_output = torch.nn.Linear(hidden, hidden)
        self.norm1 = torch.nn.LayerNorm(hidden, eps=eps)
        self.intermediate = torch.nn.Linear(hidden, intermediate)
        self.output = torch.nn.Linear(intermediate, hidden)
        self.norm2 = torch.nn.LayerNorm(hidden, eps=eps)
        names = {
            self.query: "attention.self.query", self.key: "attention.self.key",
            self.value: "attention.self.value", self.attention_output: "attention.output.dense",
            self.norm1: "attention.output.LayerNorm", self.intermediate: "intermediate.dense",
            self.output: "output.dense", self.norm2: "output.LayerNorm"}
        with torch.no_grad():
            for module, name in names.items():
                module.weight.copy_(weights[prefix + name + ".weight"])
                module.bias.copy_(weights[prefix + name + ".bias"])

    def forward(self, x, additive_mask):
        b, s, h = x.shape
        d = h // self.heads
        split = lambda t: t.view(b, s, self.heads, d).transpose(1, 2)
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + additive_mask
        context = (torch.softmax(scores, -1) @ v).transpose(1, 2).reshape(b, s, h)
        x = self.norm1(x + self.attention_output(context))
        return self.norm2(x + self.output(torch.nn.functional.gelu(self.intermediate(x))))


class Encoder(torch.nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.layers = torch.nn.ModuleList(layers)

    def forward(self, x, additive_mask):
        for layer in self.layers:
            x = layer(x, additive_mask)
        return x


def main():
    data = torch.load(sys.argv[1])
    torch.backends.quantized.engine = sys.argv[3]
    hidden = data["hidden"].float()
    mask = data["mask"]
    heads, layers, eps = int(data["num_heads"]), int(data["num_layers"]), float(data["eps"])
    width = hidden.shape[-1]
    intermediate = data["layer.0.intermediate.dense.weight"].shape[0]
    encoder = Encoder([Layer(data, "layer.%d." % i, width, heads, intermediate, eps)
                       for i in range(layers)]).eval()
    # joulebench's additive mask: 0 for real tokens, -1e9 for padding.
    additive = ((1.0 - mask.float()) * -1e9).view(mask.shape[0], 1, 1, mask.shape[1])
    with torch.no_grad():
        fp32 = encoder(hidden, additive)
        quantized = torch.ao.quantization.quantize_dynamic(
            encoder, {torch.nn.Linear}, dtype=torch.qint8)
        int8 = quantized(hidden, additive)
    count = sum(1 for m in quantized.modules()
                if type(m).__name__ == "Linear" and "quantized" in type(m).__module__)
    torch.save({"int8": int8.contiguous(), "fp32": fp32.contiguous(),
                "quantized_layers": torch.tensor(count)}, sys.argv[2])


if __name__ == "__main__":
    main()
