#!/usr/bin/python3
"""Rewrites a state dict the way Python code saves one, for tests/torch.

Usage: resave_state_dict.py [--ordered] INPUT OUTPUT
Loads INPUT (any torch.load-able dict of tensors) and saves it with torch.save in the
default zip format, as a plain dict (what joulebench documents: torch.save(dict(
model.state_dict()), path)), or with --ordered as the OrderedDict that state_dict() returns.
"""
import collections
import sys

import torch

ordered = "--ordered" in sys.argv
paths = [a for a in sys.argv[1:] if a != "--ordered"]
state = collections.OrderedDict(sorted(torch.load(paths[0]).items()))
torch.save(state if ordered else dict(state), paths[1])
