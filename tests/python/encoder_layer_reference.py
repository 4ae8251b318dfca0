#!/usr/bin/python3
"""Reference for tests/torch: runs joulebench's encoder weights through PyTorch's own
torch.nn.TransformerEncoderLayer (post-LayerNorm, GELU, batch_first).

Usage: encoder_layer_reference.py INPUT OUTPUT
INPUT  a dict saved by joulebench (torch::pickle_save): "hidden" [B, S, H] fp32, "mask"
       [B, S] (1 real token, 0 padding), "num_heads", "num_layers", "eps" (0-d tensors) and the
       layers' weights named as Hugging Face's BERT ("layer.N.attention.self.query.weight", ...).
OUTPUT torch.save({"out": [B, S, H] fp32, "num_layers"}) for the C++ side to compare.
"""
import sys

import torch


def build_layer(weights, prefix, hidden, heads, intermediate, eps):
    layer = torch.nn.TransformerEncoderLayer(
        d_model=hidden, nhead=heads, dim_feedforward=intermediate, dropout=0.0,
        activation="gelu", layer_norm_eps=eps, batch_first=True, norm_first=False)
    w = lambda name: weights[prefix + name]
    with torch.no_grad():
        attn = layer.self_attn
        attn.in_proj_weight.copy_(torch.cat([w("attention.self.query.weight"),
                                             w("attention.self.key.weight"),
                                             w("attention.self.value.weight")]))
        attn.in_proj_bias.copy_(torch.cat([w("attention.self.query.bias"),
                                           w("attention.self.key.bias"),
                                           w("attention.self.value.bias")]))
        attn.out_proj.weight.copy_(w("attention.output.dense.weight"))
        attn.out_proj.bias.copy_(w("attention.output.dense.bias"))
        layer.norm1.weight.copy_(w("attention.output.LayerNorm.weight"))
        layer.norm1.bias.copy_(w("attention.output.LayerNorm.bias"))
        layer.linear1.weight.copy_(w("intermediate.dense.weight"))
        layer.linear1.bias.copy_(w("intermediate.dense.bias"))
        layer.linear2.weight.copy_(w("output.dense.weight"))
        layer.linear2.bias.copy_(w("output.dense.bias"))
        layer.norm2.weight.copy_(w("output.LayerNorm.weight"))
        layer.norm2.bias.copy_(w("output.LayerNorm.bias"))
    # Training mode with dropout 0 keeps PyTorch on its reference (non-fused) path, which
    # also defines the outputs at padded positions.
    layer.train()
    return layer


def main():
    data = torch.load(sys.argv[1])
    hidden = data["hidden"].float()
    mask = data["mask"]
    heads = int(data["num_heads"])
    layers = int(data["num_layers"])
    eps = float(data["eps"])
    width = hidden.shape[-1]
    intermediate = data["layer.0.intermediate.dense.weight"].shape[0]
    x = hidden
    with torch.no_grad():
        for i in range(layers):
            layer = build_layer(data, "layer.%d." % i, width, heads, intermediate, eps)
            x = layer(x, src_key_padding_mask=(mask == 0))
    # Two entries: Python pickles a one-entry dict with SETITEM, an opcode libtorch 1.13's
    # C++ unpickler does not know (it reads SETITEMS).
    torch.save({"out": x.contiguous(), "num_layers": torch.tensor(layers)}, sys.argv[2])


if __name__ == "__main__":
    main()
