#!/usr/bin/python3
"""Writes a small TorchScript model for tests/torch: forward(input_ids, bbox) -> logits.

Usage: make_torchscript.py OUTPUT
"""
import sys

import torch


class TinyTagger(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.words = torch.nn.Embedding(100, 16)
        self.layout = torch.nn.Linear(4, 16)
        self.out = torch.nn.Linear(16, 3)

    def forward(self, input_ids, bbox):
        hidden = self.words(input_ids) + self.layout(bbox.float())
        return self.out(torch.tanh(hidden))


torch.jit.script(TinyTagger()).save(sys.argv[1])
