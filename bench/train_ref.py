"""PyTorch reference of the CSN training step (docs/csn.md), to compare the tfjs engine with.

Same network as shared/model/: ResNet-18 truncated after layer3 (width w: w/2w/4w
channels), global average pool, Linear "fc_embed" to 64, condition masks (fixed disjoint
blocks by default), and the CSN loss: three forward passes per triplet batch (anchor, far,
close; BatchNorm statistics per image set), margin ranking loss (margin 0.2) on the masked
distances, 5e-3 * embedding norm / sqrt(n), 5e-4 * mask L1 / n, Adam lr 5e-5.

Measures on synthetic images (no data loading):
- train triplets/s: zero_grad, three forward passes, loss, backward, Adam step;
- eval triplets/s: three forward passes per triplet under torch.no_grad() with BatchNorm in
  eval mode, then the two masked distances (what a validation loop does);
- the machine's float32 matmul GFLOP/s (torch.matmul of n x n), as the achievable peak.
Warm-up steps are excluded; each figure is the median of --windows timed windows (the
slowest and fastest windows are printed beside it). On the CPU every memory format of
--formats (NCHW, channels_last) is measured and the faster reported, with oneDNN
(torch.backends.mkldnn) on; --precision bf16 runs forward and loss under
torch.autocast("cpu", dtype=torch.bfloat16) (PyTorch's CPU mixed precision: convolutions
and matmuls in bf16, fp32 weights and optimiser). The BLAS library the process loaded is
named in the output. Prints one JSON line on stdout. Used by bench/gpu_torch.py for CUDA.

  /usr/bin/python3 bench/train_ref.py --size 112 --channels 3 --width 64 --batch 64 --steps 2
  /usr/bin/python3 bench/train_ref.py --size 64 --channels 1 --width 16 --batch 64 --steps 5
(Debian: apt-get install -y python3-torch libopenblas0-pthread; measured with its PyTorch
1.13.1, whose BLAS is the system's libblas.so.3, OpenBLAS through update-alternatives once
libopenblas0-pthread is installed: the netlib reference BLAS is about 15x slower at matmul.
Convolutions go through oneDNN either way.)
"""
import argparse
import contextlib
import json
import math
import os
import statistics
import sys
import time


def _threads_from_argv(argv):
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
    return "2"


# OpenBLAS (pthread build) ignores torch.set_num_threads: size its pool before torch loads it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", _threads_from_argv(sys.argv))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class Backbone(nn.Module):
    """torchvision resnet18 names up to layer3, then fc_embed (as the CSN reference)."""

    def __init__(self, in_channels, width, embed_dim):
        super().__init__()
        w = width
        self.conv1 = nn.Conv2d(in_channels, w, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(BasicBlock(w, w, 1), BasicBlock(w, w, 1))
        self.layer2 = nn.Sequential(BasicBlock(w, 2 * w, 2), BasicBlock(2 * w, 2 * w, 1))
        self.layer3 = nn.Sequential(BasicBlock(2 * w, 4 * w, 2), BasicBlock(4 * w, 4 * w, 1))
        self.fc_embed = nn.Linear(4 * w, embed_dim)
        for m in self.modules():  # the reference's init
            if isinstance(m, nn.Conv2d):
                n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                m.weight.data.normal_(0, math.sqrt(2.0 / n))
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.data.fill_(1)
                m.bias.data.zero_()

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc_embed(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class Csn(nn.Module):
    def __init__(self, in_channels, width, embed_dim, n_conditions, masks):
        super().__init__()
        self.backbone = Backbone(in_channels, width, embed_dim)
        self.learned = masks != "fixed"
        block = embed_dim // n_conditions
        init = torch.zeros(n_conditions, embed_dim)
        if masks == "learned":
            init.normal_(0.9, 0.7)
        else:
            init.fill_(0.1 if masks == "prein" else 0.0)
            for i in range(n_conditions):
                init[i, i * block:(i + 1) * block] = 1
        self.masks = nn.Parameter(init, requires_grad=self.learned)

    def mask_rows(self, c):
        rows = self.masks[c]
        return F.relu(rows) if self.learned else rows


def csn_loss(model, anchor, far, close, c, margin=0.2):
    """docs/csn.md 'Triplets, loss, optimiser'; three separate forward passes, as the reference."""
    ea, ef, ec = model.backbone(anchor), model.backbone(far), model.backbone(close)
    m = model.mask_rows(c)
    dist_a = F.pairwise_distance(ea * m, ef * m, 2)
    dist_b = F.pairwise_distance(ea * m, ec * m, 2)
    triplet = F.margin_ranking_loss(dist_a, dist_b, torch.ones_like(dist_a), margin=margin)
    n = anchor.shape[0]
    embed = (ea.norm(2) + ef.norm(2) + ec.norm(2)) / 3 / math.sqrt(n)
    mask = m.norm(1) / n  # the same rows for the three image sets
    return triplet + 5e-3 * embed + 5e-4 * mask, dist_a, dist_b


def forward_gflop_per_image(backbone, channels, size, device):
    """2 x multiply-adds of the convolutions and the Linear, counted by forward hooks."""
    macs = [0]

    def hook(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            macs[0] += output.numel() * k * module.in_channels // module.groups
        elif isinstance(module, nn.Linear):
            macs[0] += output.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in backbone.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    was_training = backbone.training
    backbone.eval()
    with torch.no_grad():
        backbone(torch.zeros(1, channels, size, size, device=device))
    backbone.train(was_training)
    for h in handles:
        h.remove()
    return 2 * macs[0] / 1e9


def loaded_blas():
    """The BLAS/LAPACK shared objects this process mapped (netlib's or OpenBLAS)."""
    try:
        with open("/proc/self/maps") as f:
            names = {line.split()[-1] for line in f if "blas" in line or "lapack" in line}
    except OSError:
        return []
    return sorted(os.path.realpath(n) for n in names if n.startswith("/"))


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed_windows(fn, warmup, windows, steps, device, cpu=None):
    """Seconds of each window of `steps` calls, after `warmup` untimed calls; the process CPU
    seconds of each window are appended to `cpu` when given."""
    for _ in range(warmup):
        fn()
    sync(device)
    out = []
    for _ in range(windows):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(steps):
            fn()
        sync(device)
        out.append(time.perf_counter() - t0)
        if cpu is not None:
            cpu.append(time.process_time() - c0)
    return out


def matmul_gflops(n, device, reps=5):
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    times = timed_windows(lambda: torch.matmul(a, b), 2, reps, 1, device)
    return 2 * n ** 3 / statistics.median(times) / 1e9


def conv_gflops(width, device, reps=5):
    """A 3x3 convolution as layer3's (4w -> 4w channels, 14x14, batch 32): what oneDNN /
    cuDNN reach on this network's largest kind of layer."""
    c = 4 * width
    x = torch.randn(32, c, 14, 14, device=device)
    conv = nn.Conv2d(c, c, 3, 1, 1, bias=False).to(device)
    with torch.no_grad():
        times = timed_windows(lambda: conv(x), 2, reps, 1, device)
    return 2 * 32 * 14 * 14 * c * c * 9 / statistics.median(times) / 1e9


def measure(args, device, memory_format):
    """Train and eval windows of one memory format: (train seconds, eval seconds, model)."""
    torch.manual_seed(args.seed)
    model = Csn(args.channels, args.width, args.embed, args.conditions, args.masks).to(device)
    model = model.to(memory_format=memory_format)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=args.lr)
    n, shape = args.batch, (args.batch, args.channels, args.size, args.size)
    anchor, far, close = (torch.randn(shape, device=device).contiguous(memory_format=memory_format)
                          for _ in range(3))
    c = torch.randint(0, args.conditions, (n,), device=device)

    def autocast():
        if args.precision == "bf16":
            return torch.autocast(device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def train_step():
        opt.zero_grad(set_to_none=True)
        with autocast():
            loss, _, _ = csn_loss(model, anchor, far, close, c)
        loss.float().backward()
        opt.step()

    def eval_step():
        with torch.no_grad(), autocast():
            _, dist_a, dist_b = csn_loss(model, anchor, far, close, c)
            (dist_a > dist_b).sum()

    model.train()
    cpu = []
    train = timed_windows(train_step, args.warmup, args.windows, args.steps, device, cpu)
    model.eval()
    evals = timed_windows(eval_step, args.warmup, args.windows, args.steps, device)
    return train, evals, model, cpu


def rates(n, steps, windows):
    """Triplets/s: the median window's, and the slowest and fastest windows' (the spread)."""
    return {
        "median": round(n * steps / statistics.median(windows), 3),
        "slowest": round(n * steps / max(windows), 3),
        "fastest": round(n * steps / min(windows), 3),
    }


def run(args):
    load = os.getloadavg()[0]  # other processes on the machine skew CPU figures
    device = torch.device(args.device)
    if device.type == "cuda":
        # Off by default: the tfjs engines compute in plain float32.
        torch.backends.cuda.matmul.allow_tf32 = args.tf32
        torch.backends.cudnn.allow_tf32 = args.tf32
        torch.backends.cudnn.benchmark = True
    torch.backends.mkldnn.enabled = True
    formats = {"nchw": torch.contiguous_format, "channels_last": torch.channels_last}
    per_format = {}
    for name in (args.formats.split(",") if device.type == "cpu" else ["nchw"]):
        if name not in formats:
            sys.exit(f"train_ref.py: --formats has {name!r}, expected nchw or channels_last")
        train, evals, model, cpu = measure(args, device, formats[name])
        per_format[name] = {
            # Process CPU ms per training triplet (median window): steadier than wall time on a
            # loaded machine; with one thread it is the per-core cost (more threads add
            # OpenMP's spin-waiting).
            "train_cpu_ms_per_triplet": round(
                1000 * statistics.median(cpu) / (args.batch * args.steps), 3),
            "train": rates(args.batch, args.steps, train),
            "eval": rates(args.batch, args.steps, evals),
            "train_window_s": [round(t, 4) for t in train],
            "eval_window_s": [round(t, 4) for t in evals],
        }
    best_train = max(per_format, key=lambda k: per_format[k]["train"]["median"])
    best_eval = max(per_format, key=lambda k: per_format[k]["eval"]["median"])
    n = args.batch
    fwd = forward_gflop_per_image(model.backbone, args.channels, args.size, device)
    train_tps = per_format[best_train]["train"]["median"]
    eval_tps = per_format[best_eval]["eval"]["median"]
    # Backward ~ 2 x forward (input and weight gradients), so a training triplet is about
    # 3 images x 3 x forward; evaluation is 3 images x forward.
    train_gflop, eval_gflop = 9 * fwd, 3 * fwd
    matmul_n = args.matmul_n or (8192 if device.type == "cuda" else 2048)
    peak = matmul_gflops(matmul_n, device)
    conv_peak = conv_gflops(args.width, device)
    return {
        "framework": "pytorch",
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "threads": torch.get_num_threads(),
        "mkldnn": torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled,
        "blas": loaded_blas(),
        "precision": args.precision,
        "load_avg_1m_at_start": round(load, 2),
        "tf32": bool(args.tf32) if device.type == "cuda" else None,
        "size": args.size, "channels": args.channels, "width": args.width,
        "embed": args.embed, "masks": args.masks, "batch": n,
        "parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "steps_per_window": args.steps, "windows": args.windows, "warmup": args.warmup,
        "formats": per_format,
        "train_format": best_train, "eval_format": best_eval,
        "train_triplets_per_s": train_tps,
        "eval_triplets_per_s": eval_tps,
        "train_triplets_per_s_spread": per_format[best_train]["train"],
        "eval_triplets_per_s_spread": per_format[best_eval]["eval"],
        # The fastest window: the least disturbed by other processes on a shared machine.
        "train_triplets_per_s_best": per_format[best_train]["train"]["fastest"],
        "eval_triplets_per_s_best": per_format[best_eval]["eval"]["fastest"],
        "train_window_s": per_format[best_train]["train_window_s"],
        "eval_window_s": per_format[best_eval]["eval_window_s"],
        "eval_method": "three forward passes per triplet, torch.no_grad(), BatchNorm eval mode",
        "gflop_per_image_forward": round(fwd, 4),
        "gflop_per_triplet": round(train_gflop, 4),
        "eval_gflop_per_triplet": round(eval_gflop, 4),
        "train_gflop_per_s": round(train_tps * train_gflop, 2),
        "eval_gflop_per_s": round(eval_tps * eval_gflop, 2),
        "matmul_n": matmul_n,
        "matmul_gflop_per_s": round(peak, 2),
        "conv_gflop_per_s": round(conv_peak, 2),
        "train_fraction_of_matmul": round(train_tps * train_gflop / peak, 4),
    }


def parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=112)
    p.add_argument("--channels", type=int, default=3)
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--embed", type=int, default=64)
    p.add_argument("--conditions", type=int, default=4)
    p.add_argument("--masks", choices=["fixed", "learned", "prein"], default="fixed")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=2, help="steps per timed window")
    p.add_argument("--windows", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--tf32", action="store_true", help="CUDA: allow TF32 matmuls/convolutions")
    p.add_argument("--matmul-n", type=int, default=0, help="matmul size (0: 2048 CPU, 8192 CUDA)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--formats", default="nchw,channels_last",
                   help="CPU memory formats to measure; the faster is reported")
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                   help="bf16: torch.autocast(cpu, bfloat16) around forward and loss")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    for key in ("size", "channels", "width", "batch", "steps", "windows", "threads"):
        if getattr(args, key) < 1:
            sys.exit(f"train_ref.py: --{key} must be at least 1, got {getattr(args, key)}")
    if args.size < 16:
        sys.exit(f"train_ref.py: --size must be at least 16, got {args.size}")
    if args.conditions > args.embed:
        sys.exit(f"train_ref.py: {args.conditions} conditions need an embedding of at least "
                 f"that size, got --embed {args.embed}")
    print(json.dumps(run(args)), flush=True)


if __name__ == "__main__":
    main()
