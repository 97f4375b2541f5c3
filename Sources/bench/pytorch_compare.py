#!/usr/bin/env python3
"""The PyTorch side of `bench --pytorch`: the same workloads as Tracewell's bench, one round,
printed as one JSON object. Exit status 3 when PyTorch is not installed.

Workloads (one thread, CPU):
  module_call_ns      empty nn.Module through __call__, ns per call
  module_forward_ns   the same module's .forward called directly
  module_hook_ns      __call__ with one no-op forward hook
  hook_pair_ns        __call__ with a no-op pre-hook and forward hook
  profiler_op_ns      torch.profiler (record_shapes, profile_memory) cost per op (relu on one element)
  mlp_step_ms         MLP 784-256-256-10, batch 64, CrossEntropy, SGD momentum 0.9: one training step
  mlp_profiled_pct    that step under torch.profiler(record_shapes, profile_memory) vs plain
  chrome_bytes_per_event  export_chrome_trace of 10 such steps: bytes per event
"""
import json
import os
import sys
import tempfile
import time

try:
    import torch
    import torch.nn as nn
    from torch.profiler import ProfilerActivity, profile
except ImportError:
    sys.exit(3)

torch.set_num_threads(1)


class Empty(nn.Module):
    def forward(self, x):
        return x


def per_call(fn, n):
    t0 = time.perf_counter_ns()
    for _ in range(n):
        fn()
    return (time.perf_counter_ns() - t0) / n


def median(values):
    s = sorted(values)
    return s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2


def module_calls(n=100_000):
    x = torch.zeros(1)
    m = Empty()
    hooked = Empty()
    hooked.register_forward_hook(lambda mod, inp, out: None)
    pair = Empty()
    pair.register_forward_pre_hook(lambda mod, inp: None)
    pair.register_forward_hook(lambda mod, inp, out: None)
    call = median([per_call(lambda: m(x), n) for _ in range(5)])
    forward = median([per_call(lambda: m.forward(x), n) for _ in range(5)])
    hook = median([per_call(lambda: hooked(x), n) for _ in range(5)])
    hooks = median([per_call(lambda: pair(x), n) for _ in range(5)])
    return {"module_call_ns": call, "module_forward_ns": forward, "module_hook_ns": hook, "hook_pair_ns": hooks}


def profiler_per_op(n=20_000):
    x = torch.zeros(1)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True, profile_memory=True):
        torch.relu(x)  # the first profiler session of a process pays for initialization
    plain = median([per_call(lambda: torch.relu(x), n) for _ in range(3)])
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True, profile_memory=True):
        traced = median([per_call(lambda: torch.relu(x), n) for _ in range(3)])
    return {"profiler_op_ns": traced - plain}


def mlp():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.randn(64, 784)
    y = torch.randint(0, 10, (64,))

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(20):
        step()
    plain, traced = [], []
    for block in range(20):
        plain.append(median([per_call(step, 1) for _ in range(10)]))
        with profile(activities=[ProfilerActivity.CPU], record_shapes=True, profile_memory=True):
            traced.append(median([per_call(step, 1) for _ in range(10)]))
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True, profile_memory=True) as prof:
        for _ in range(10):
            step()
    path = os.path.join(tempfile.mkdtemp(), "trace.json")
    prof.export_chrome_trace(path)
    with open(path) as f:
        events = len(json.load(f)["traceEvents"])
    return {"mlp_step_ms": median(plain) / 1e6,
            "mlp_profiled_pct": (median(traced) / median(plain) - 1) * 100,
            "chrome_bytes_per_event": os.path.getsize(path) / events}


if __name__ == "__main__":
    result = {"torch": torch.__version__}
    result.update(module_calls())
    result.update(profiler_per_op())
    result.update(mlp())
    print(json.dumps(result))
