"""PyTorch's side of `mpirun -n 2 bench --ddp`: the same MLP step (784-256-256-10, SGD
momentum 0.9, global batch 64 split over the ranks, buckets of 0.25 MiB) with
DistributedDataParallel on the gloo backend (CPU), one thread per rank.

    torchrun --nproc-per-node 2 Sources/bench/pytorch_ddp.py [steps]
    python Sources/bench/pytorch_ddp.py --single [steps]        # one process, batch 64

Prints one JSON line from rank 0: median step time in ms. Never needed by CI.
"""
import json, os, statistics, sys, time

import torch
import torch.distributed as dist
import torch.nn as nn

torch.set_num_threads(1)
args = [a for a in sys.argv[1:] if not a.startswith("--")]
steps = int(args[0]) if args else 300
single = "--single" in sys.argv

def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))

def run(model, batch, rank):
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    g = torch.Generator().manual_seed(1 + rank)
    x = torch.randn(batch, 784, generator=g)
    y = torch.randint(0, 10, (batch,), generator=g)
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for i in range(steps + 20):
        t = time.perf_counter_ns()
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
        if i >= 20:
            times.append(time.perf_counter_ns() - t)
    return statistics.median(times) / 1e6

if single:
    print(json.dumps({"pytorch_single_step_ms": run(mlp(), 64, 0)}))
else:
    dist.init_process_group("gloo")
    rank, size = dist.get_rank(), dist.get_world_size()
    ddp = nn.parallel.DistributedDataParallel(mlp(), bucket_cap_mb=0.25)
    ms = run(ddp, 64 // size, rank)
    if rank == 0:
        print(json.dumps({"pytorch_ddp_gloo_step_ms": ms, "ranks": size}))
    dist.destroy_process_group()
