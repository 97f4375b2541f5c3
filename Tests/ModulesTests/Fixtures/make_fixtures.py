#!/usr/bin/env python3
"""Reference values from PyTorch for Tests/ModulesTests/PyTorchComparisonTests.swift.

Run from the repository root with a Python that has torch and safetensors:

    python Tests/ModulesTests/Fixtures/make_fixtures.py

It rewrites the .safetensors files next to this script. With `--check-swift FILE` it instead
loads a state dict that Tracewell saved from `TorchNet` (run the tests with
TRACEWELL_EXPORT_DIR=DIR to get DIR/net.safetensors) into the PyTorch `Net` with
`load_state_dict(strict=True)` and compares the outputs. CI never runs it: the files are
committed. Each file holds, per case, the inputs, the module's state dict before the call
(`<case>.state.<torch name>`), the outputs and the gradients of sum(output * probe).
"""
import os
import sys
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
torch.set_num_threads(1)
torch.manual_seed(0)


def save(name, tensors):
    tensors = {k: (v.float() if v.dtype == torch.float64 else v).detach().contiguous().clone() for k, v in tensors.items()}
    save_file(tensors, os.path.join(HERE, name + ".safetensors"), metadata={"torch": torch.__version__})


# ---------------------------------------------------------------- the model of the state-dict test
class Net(nn.Module):
    """Mirrors `TorchNet` in StateDictCompatibilityTests.swift."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding=1)
        self.bn = nn.BatchNorm2d(2)
        self.fc = nn.Linear(2 * 4 * 4, 8)
        self.norm = nn.LayerNorm(8)
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
        self.head = nn.Sequential(nn.Linear(8, 8), nn.GELU(), nn.Linear(8, 3))

    def forward(self, x):
        h = torch.relu(self.bn(self.conv(x)))
        h = self.norm(self.fc(h.flatten(1)).unsqueeze(0))
        h = self.attn(h, h, h, need_weights=False)[0]
        return self.head(h)


if len(sys.argv) == 3 and sys.argv[1] == "--check-swift":
    from safetensors.torch import load_file
    net = Net()
    net.load_state_dict(load_file(sys.argv[2]), strict=True)
    net.eval()
    state = load_file(os.path.join(HERE, "net_state.safetensors"))
    reference = Net()
    reference.load_state_dict(state)
    reference.eval()
    x = torch.randn(3, 1, 4, 4)
    assert torch.equal(net(x), reference(x)), "outputs differ"
    print(f"{sys.argv[2]}: load_state_dict(strict=True) took all {len(state)} tensors; outputs identical")
    sys.exit(0)

# ---------------------------------------------------------------- layers
def layer_case(out, name, module, inputs, train=True, call=None, float64=False):
    """Records state before, output, probe, gradients of every float input and parameter,
    and the state after (running statistics). With float64 the reference is computed in
    double precision from the same float32 values (PyTorch's float32 kernels lose about
    0.4% on tiny variances around a large mean; the exact value is the reference)."""
    if float64:
        module = module.double()
        inputs = [x.double() for x in inputs]
    module.train(train)
    module.zero_grad(set_to_none=True)
    for k, v in module.state_dict().items():
        out[f"{name}.state.{k}"] = v.clone()
    inputs = [x.clone().requires_grad_(x.is_floating_point()) for x in inputs]
    for i, x in enumerate(inputs):
        out[f"{name}.input{i}"] = x
    y = call(module, *inputs) if call else module(*inputs)
    probe = torch.randn_like(y)
    (y * probe).sum().backward()
    out[f"{name}.output"] = y
    out[f"{name}.probe"] = probe
    for i, x in enumerate(inputs):
        if x.grad is not None:
            out[f"{name}.grad.input{i}"] = x.grad.clone()
    for k, p in module.named_parameters():
        if p.grad is not None:
            out[f"{name}.grad.{k}"] = p.grad.clone()
    for k, v in module.state_dict().items():
        out[f"{name}.after.{k}"] = v.clone()


def with_random_affine(m):
    with torch.no_grad():
        for name, p in m.named_parameters():
            p.copy_(torch.randn_like(p) * 0.5 + (1 if name == "weight" else 0))
    return m


layers = {}
layer_case(layers, "linear", nn.Linear(5, 4), [torch.randn(3, 5)])
layer_case(layers, "linear_nobias", nn.Linear(5, 4, bias=False), [torch.randn(2, 3, 5)])
layer_case(layers, "conv", nn.Conv2d(2, 3, 3, stride=2, padding=1), [torch.randn(2, 2, 7, 7)])
bn2 = with_random_affine(nn.BatchNorm2d(3))
layer_case(layers, "bn2d_train", bn2, [torch.randn(4, 3, 5, 5) * 2 + 1])
layer_case(layers, "bn2d_eval", bn2, [torch.randn(2, 3, 4, 4)], train=False)
layer_case(layers, "bn1d_train", with_random_affine(nn.BatchNorm1d(3)), [torch.randn(6, 3)])
layer_case(layers, "bn1d_ncl", with_random_affine(nn.BatchNorm1d(3)), [torch.randn(4, 3, 5)])
layer_case(layers, "bn1d_noaffine_nostats", nn.BatchNorm1d(3, affine=False, track_running_stats=False),
           [torch.randn(5, 3)], train=False)
layer_case(layers, "bn1d_tiny_variance", nn.BatchNorm1d(2), [100 + 1e-3 * torch.randn(8, 2)], float64=True)
# Cumulative averaging (momentum=None) over three batches: state after the last one.
cumulative = nn.BatchNorm1d(3, momentum=None)
for i in range(3):
    x = torch.randn(4, 3) * (i + 1)
    layers[f"bn1d_cumulative.batch{i}"] = x
    cumulative(x)
for k, v in cumulative.state_dict().items():
    layers[f"bn1d_cumulative.after.{k}"] = v
layer_case(layers, "layernorm", with_random_affine(nn.LayerNorm(6)), [torch.randn(2, 3, 6)])
layer_case(layers, "layernorm_multi_noaffine", nn.LayerNorm([3, 6], elementwise_affine=False), [torch.randn(2, 3, 6)])
layer_case(layers, "layernorm_tiny_variance", nn.LayerNorm(4), [50 + 1e-3 * torch.randn(3, 4)], float64=True)
layer_case(layers, "embedding", nn.Embedding(7, 4, padding_idx=0), [torch.tensor([[0, 3, 3, 6, 0], [1, 2, 0, 5, 4]])])
mha = nn.MultiheadAttention(8, 2, batch_first=True)
with torch.no_grad():
    mha.in_proj_bias.normal_()
    mha.out_proj.bias.normal_()
causal = torch.triu(torch.full((5, 5), -1e9), diagonal=1)
layer_case(layers, "mha_causal", mha, [torch.randn(2, 5, 8)],
           call=lambda m, x: m(x, x, x, attn_mask=causal, need_weights=False)[0])
layer_case(layers, "mha_nomask", nn.MultiheadAttention(6, 3, batch_first=True), [torch.randn(2, 4, 6)],
           call=lambda m, x: m(x, x, x, need_weights=False)[0])
# Ties: small integers, so most windows hold their maximum twice; PyTorch sends the
# gradient to the first maximum in the window's row-major order.
layer_case(layers, "maxpool_ties", nn.MaxPool2d(2), [torch.randint(0, 3, (2, 2, 6, 6)).float()])
layer_case(layers, "maxpool_stride", nn.MaxPool2d(3, stride=2), [torch.randn(1, 2, 7, 7)])
layer_case(layers, "avgpool", nn.AvgPool2d(3, stride=2), [torch.randn(1, 2, 7, 7)])
for name, m in [("relu", nn.ReLU()), ("gelu", nn.GELU()), ("tanh", nn.Tanh()), ("sigmoid", nn.Sigmoid()),
                ("softmax", nn.Softmax(dim=-1)), ("log_softmax", nn.LogSoftmax(dim=-1))]:
    layer_case(layers, name, m, [torch.randn(3, 4) * 2])
# Attention options: cross-attention with separate keys and values, boolean masks (True =
# not allowed for MultiheadAttention), key padding masks.
cross = nn.MultiheadAttention(6, 2, batch_first=True)
with torch.no_grad():
    cross.in_proj_bias.normal_()
layer_case(layers, "mha_cross", cross, [torch.randn(2, 3, 6), torch.randn(2, 5, 6), torch.randn(2, 5, 6)],
           call=lambda m, q, k, v: m(q, k, v, need_weights=False)[0])
layer_case(layers, "mha_memory", nn.MultiheadAttention(6, 3, batch_first=True), [torch.randn(2, 3, 6), torch.randn(2, 4, 6)],
           call=lambda m, q, kv: m(q, kv, kv, need_weights=False)[0])
bool_mask = torch.tensor([[False, True, False, True], [False, False, True, True], [True, False, False, False]])
padding = torch.tensor([[False, False, False, True], [False, True, False, False]])
layer_case(layers, "mha_bool_masks", nn.MultiheadAttention(6, 2, batch_first=True), [torch.randn(2, 3, 6), torch.randn(2, 4, 6)],
           call=lambda m, q, kv: m(q, kv, kv, attn_mask=bool_mask, key_padding_mask=padding, need_weights=False)[0])
layers["mha_bool_masks.mask"] = bool_mask.int()
layers["mha_bool_masks.padding"] = padding.int()
causal_bool = torch.triu(torch.ones(4, 4, dtype=torch.bool), diagonal=1)
layer_case(layers, "mha_is_causal", nn.MultiheadAttention(6, 2, batch_first=True), [torch.randn(2, 4, 6)],
           call=lambda m, x: m(x, x, x, attn_mask=causal_bool, is_causal=True, need_weights=False)[0])
for name, kw in [("sdpa_plain", {}), ("sdpa_causal", {"is_causal": True}), ("sdpa_scale", {"scale": 0.3}),
                 ("sdpa_bool", {"attn_mask": torch.tensor([[True, False, True, True, False]] * 4)}),
                 ("sdpa_float", {"attn_mask": torch.randn(4, 5)})]:
    q, k, v = (torch.randn(2, 2, 4, 3, requires_grad=True), torch.randn(2, 2, 5, 3, requires_grad=True),
               torch.randn(2, 2, 5, 2, requires_grad=True))
    out = F.scaled_dot_product_attention(q, k, v, **kw)
    probe = torch.randn_like(out)
    (out * probe).sum().backward()
    layers.update({f"{name}.q": q, f"{name}.k": k, f"{name}.v": v, f"{name}.output": out, f"{name}.probe": probe,
                   f"{name}.grad.q": q.grad, f"{name}.grad.k": k.grad, f"{name}.grad.v": v.grad})
    if "attn_mask" in kw:
        m = kw["attn_mask"]
        layers[f"{name}.mask"] = m.int() if m.dtype == torch.bool else m

layer_case(layers, "rmsnorm", with_random_affine(nn.RMSNorm(5)), [torch.randn(2, 3, 5)])
layer_case(layers, "rmsnorm_multi_eps", nn.RMSNorm([3, 5], eps=1e-3, elementwise_affine=False), [torch.randn(2, 3, 5)])
layer_case(layers, "groupnorm", with_random_affine(nn.GroupNorm(2, 4)), [torch.randn(3, 4, 3, 2)])
layer_case(layers, "groupnorm_noaffine_1d", nn.GroupNorm(3, 3, affine=False), [torch.randn(2, 3, 5)])

# Convolution and pooling options.
layer_case(layers, "conv_dilation_rect", nn.Conv2d(2, 4, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(2, 1)),
           [torch.randn(2, 2, 7, 6)])
layer_case(layers, "conv_groups", nn.Conv2d(4, 6, 3, groups=2, bias=False), [torch.randn(1, 4, 5, 5)])
layer_case(layers, "conv_depthwise_same", nn.Conv2d(3, 3, 4, padding="same", groups=3), [torch.randn(2, 3, 5, 6)])
layer_case(layers, "conv_same_dilated", nn.Conv2d(2, 3, 3, padding="same", dilation=2), [torch.randn(1, 2, 6, 5)])
layer_case(layers, "conv_valid", nn.Conv2d(2, 3, (2, 3), padding="valid"), [torch.randn(1, 2, 4, 5)])
layer_case(layers, "maxpool_pad_ceil", nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), [torch.randn(1, 2, 6, 7)])
layer_case(layers, "maxpool_rect", nn.MaxPool2d((2, 3), stride=(1, 2)), [torch.randn(1, 1, 5, 7)])
layer_case(layers, "avgpool_pad_include", nn.AvgPool2d(3, stride=2, padding=1), [torch.randn(1, 2, 6, 7)])
layer_case(layers, "avgpool_pad_exclude_ceil", nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
           [torch.randn(1, 2, 6, 7)])
layer_case(layers, "adaptive_avgpool", nn.AdaptiveAvgPool2d((3, 2)), [torch.randn(2, 2, 7, 5)])
layer_case(layers, "adaptive_avgpool_1", nn.AdaptiveAvgPool2d(1), [torch.randn(2, 3, 4, 4)])
layer_case(layers, "gelu_tanh", nn.GELU(approximate="tanh"), [torch.randn(3, 4) * 2])
layer_case(layers, "silu", nn.SiLU(), [torch.randn(3, 4) * 2])
save("layers", layers)

# ---------------------------------------------------------------- losses
losses = {}


def ce_case(name, logits, targets, probe=False, **kw):
    logits = logits.clone().requires_grad_(True)
    loss = F.cross_entropy(logits, targets, **kw)
    p = torch.randn_like(loss) if probe else torch.ones_like(loss)
    (loss * p).sum().backward()
    losses[f"{name}.logits"] = logits
    losses[f"{name}.targets"] = targets
    if kw.get("weight") is not None:
        losses[f"{name}.weight"] = kw["weight"]
    losses[f"{name}.probe"] = p
    losses[f"{name}.loss"] = loss
    losses[f"{name}.grad"] = logits.grad


confident = torch.tensor([[100.0, 0.0, 0.0], [0.0, 0.0, 100.0], [3.0, 1.0, -2.0]])
ce_case("ce_confident_wrong", confident, torch.tensor([1, 2, 0]))
ce_case("ce_confident_wrong_none", confident, torch.tensor([1, 2, 0]), probe=True, reduction="none")
logits = torch.randn(6, 5) * 2
targets = torch.tensor([0, 4, 2, 2, 1, 3])
weight = torch.rand(5) + 0.5
ce_case("ce_basic", logits, targets)
ce_case("ce_weight", logits, targets, weight=weight)
ignored = torch.tensor([0, -100, 2, 2, -100, 3])
ce_case("ce_ignore_weight", logits, ignored, weight=weight)
ce_case("ce_smoothing", logits, targets, label_smoothing=0.2)
ce_case("ce_smoothing_weight_ignore", logits, ignored, weight=weight, label_smoothing=0.1)
ce_case("ce_sum", logits, ignored, reduction="sum", label_smoothing=0.1)
ce_case("ce_none", logits, ignored, probe=True, reduction="none", weight=weight, label_smoothing=0.1)
ce_case("ce_custom_ignore", logits, torch.tensor([0, 4, 2, 2, 1, 3]), ignore_index=2)
for reduction in ["mean", "sum", "none"]:
    a = torch.randn(3, 4, requires_grad=True)
    b = torch.randn(3, 4)
    loss = F.mse_loss(a, b, reduction=reduction)
    p = torch.randn_like(loss)
    (loss * p).sum().backward()
    losses.update({f"mse_{reduction}.input": a, f"mse_{reduction}.target": b, f"mse_{reduction}.probe": p,
                   f"mse_{reduction}.loss": loss, f"mse_{reduction}.grad": a.grad})
lp = F.log_softmax(torch.randn(6, 5), dim=-1)
for name, kw in [("nll_basic", {}), ("nll_weight_ignore", {"weight": weight, "ignore_index": 2}),
                 ("nll_sum", {"reduction": "sum"}), ("nll_none", {"reduction": "none", "weight": weight})]:
    x = lp.clone().requires_grad_(True)
    loss = F.nll_loss(x, targets, **kw)
    p = torch.randn_like(loss)
    (loss * p).sum().backward()
    losses.update({f"{name}.input": x, f"{name}.probe": p, f"{name}.loss": loss, f"{name}.grad": x.grad})
bce_logits = torch.tensor([[30.0, -30.0, 0.5], [-2.0, 1.0, -100.0], [0.0, 4.0, -0.3], [1.5, -1.5, 2.5]])
bce_targets = torch.tensor([[0.0, 1.0, 0.3], [1.0, 0.0, 1.0], [0.5, 1.0, 0.0], [1.0, 1.0, 0.0]])
bce_weight = torch.rand(4, 3)
bce_pos = torch.tensor([2.0, 0.5, 1.5])
for name, kw in [("bce_basic", {}), ("bce_weights", {"weight": bce_weight, "pos_weight": bce_pos}),
                 ("bce_sum", {"reduction": "sum", "pos_weight": bce_pos}), ("bce_none", {"reduction": "none", "weight": bce_weight})]:
    x = bce_logits.clone().requires_grad_(True)
    loss = F.binary_cross_entropy_with_logits(x, bce_targets, **kw)
    p = torch.randn_like(loss)
    (loss * p).sum().backward()
    losses.update({f"{name}.input": x, f"{name}.probe": p, f"{name}.loss": loss, f"{name}.grad": x.grad})
losses.update({"nll.targets": targets, "nll.weight": weight, "bce.targets": bce_targets, "bce.weight": bce_weight,
               "bce.pos_weight": bce_pos})
save("losses", losses)

# ---------------------------------------------------------------- optimizers
# Two parameters; w2 gets its first gradient at step 2 (a late-starting branch), so its
# per-parameter state (Adam's step count, SGD's first momentum step) starts there.
STEPS, LATE = 6, 2
optim = {"init.w1": torch.randn(3, 4), "init.w2": torch.randn(5)}
grads = []
for k in range(STEPS):
    g1 = torch.randn(3, 4) / (k + 1)
    g2 = torch.randn(5) if k >= LATE else None
    grads.append((g1, g2))
    optim[f"grad.{k}.w1"] = g1
    if g2 is not None:
        optim[f"grad.{k}.w2"] = g2
cases = {
    "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1, weight_decay=0.01),
    "sgd_momentum": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.01),
    "sgd_nesterov": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "sgd_maximize": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.5, maximize=True),
    "adam": lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.9, 0.99), weight_decay=0.01),
    "adam_amsgrad_maximize": lambda ps: torch.optim.Adam(ps, lr=0.01, amsgrad=True, maximize=True),
    "adamw": lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1),
    "adamw_amsgrad": lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1, amsgrad=True),
    "rmsprop": lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9),
    "rmsprop_centered_momentum": lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, momentum=0.5, centered=True,
                                                                weight_decay=0.01),
}
for name, make in cases.items():
    w1 = optim["init.w1"].clone().requires_grad_(True)
    w2 = optim["init.w2"].clone().requires_grad_(True)
    opt = make([w1, w2])
    for k, (g1, g2) in enumerate(grads):
        opt.zero_grad(set_to_none=True)
        w1.grad = g1.clone()
        w2.grad = None if g2 is None else g2.clone()
        opt.step()
        optim[f"{name}.{k}.w1"] = w1.detach().clone()
        optim[f"{name}.{k}.w2"] = w2.detach().clone()
save("optimizers", optim)
# ---------------------------------------------------------------- schedules and clipping
schedules = {}
for name, make in {
    "step": lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
    "cosine": lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
    "linear": lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=4),
}.items():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sched = make(opt)
    rates = [opt.param_groups[0]["lr"]]
    for _ in range(12):
        opt.step()
        sched.step()
        rates.append(opt.param_groups[0]["lr"])
    schedules[f"lr_{name}"] = torch.tensor(rates, dtype=torch.float64)
for name, max_norm, norm_type in [("clip_l2", 1.0, 2.0), ("clip_inf", 0.5, float("inf")), ("clip_none", 100.0, 2.0)]:
    ps = [torch.randn(3, 4, requires_grad=True), torch.randn(5, requires_grad=True), torch.randn(2, requires_grad=True)]
    ps[0].grad, ps[1].grad = torch.randn(3, 4), torch.randn(5) * 3
    schedules[f"{name}.grad0"], schedules[f"{name}.grad1"] = ps[0].grad.clone(), ps[1].grad.clone()
    total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
    schedules[f"{name}.norm"] = total
    schedules[f"{name}.clipped0"], schedules[f"{name}.clipped1"] = ps[0].grad, ps[1].grad
save("schedules", schedules)

# ---------------------------------------------------------------- a whole state dict
net = Net()
with torch.no_grad():
    net(torch.randn(5, 1, 4, 4))  # moves the running statistics, num_batches_tracked = 1
    net.eval()
    x = torch.randn(3, 1, 4, 4)
    save_file(net.state_dict(), os.path.join(HERE, "net_state.safetensors"))
    save("net_io", {"input": x, "output": net(x)})

# ---------------------------------------------------------------- dtypes
values = torch.tensor([[0.5, -1.25, 3.0e-5, 65504.0], [-0.0, 1.0e-7, 2.0, -3.5]])
save("dtypes", {"f32": values, "f16": values.half(), "bf16": values.bfloat16(),
                "f16_as_f32": values.half().float(), "bf16_as_f32": values.bfloat16().float(),
                "i64": torch.tensor([[0, -7, 2147483647]]), "i32": torch.tensor([5, -2], dtype=torch.int32)})

print("wrote layers, losses, optimizers:", {n: os.path.getsize(os.path.join(HERE, n + ".safetensors"))
                                          for n in ["layers", "losses", "optimizers", "net_state", "dtypes", "schedules"]})
