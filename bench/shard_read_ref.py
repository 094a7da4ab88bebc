"""Reference loader for bench/shard_read_bench.ts: the CSN PyTorch reference's style
(a torch Dataset returning three PIL images per triplet, RandomHorizontalFlip, ToTensor,
Normalize, batched by a DataLoader) over the same shard set, reading each record from its
shard file as the reference reads each JPEG from disk. Prints one JSON line:
{"triplets_per_s": ..., "batches": ..., "batch_size": ..., "workers": ...}.
torchvision is not needed: its three transforms are written out below with the same maths.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from PIL import Image


class ShardTriplets(torch.utils.data.Dataset):
    def __init__(self, shard_dir, split, mean, std, flip):
        with open(os.path.join(shard_dir, "index.json")) as f:
            self.index = json.load(f)
        self.dir = shard_dir
        self.h, self.w, self.c = self.index["shape"]
        self.record = self.index["record_bytes"]
        ref = self.index["triplets"][split]
        self.triplets = np.fromfile(os.path.join(shard_dir, ref["file"]), dtype="<i4").reshape(-1, 4)
        self.firsts = np.array([s["first"] for s in self.index["shards"]])
        self.mean = torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(-1, 1, 1)
        self.flip = flip

    def __len__(self):
        return len(self.triplets)

    def load(self, image_id):
        shard = int(np.searchsorted(self.firsts, image_id, side="right") - 1)
        entry = self.index["shards"][shard]
        with open(os.path.join(self.dir, entry["file"]), "rb") as f:
            f.seek((image_id - entry["first"]) * self.record)
            raw = f.read(self.record)
        mode = "L" if self.c == 1 else "RGB"
        return Image.frombytes(mode, (self.w, self.h), raw)

    def transform(self, img):
        if self.flip and torch.rand(1).item() < 0.5:  # RandomHorizontalFlip
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        arr = np.asarray(img, dtype=np.uint8)
        if arr.ndim == 2:
            arr = arr[:, :, None]
        t = torch.from_numpy(arr.copy()).permute(2, 0, 1).float().div(255)  # ToTensor
        return (t - self.mean) / self.std  # Normalize

    def __getitem__(self, i):
        a, far, close, c = (int(v) for v in self.triplets[i])
        return (self.transform(self.load(a)), self.transform(self.load(far)),
                self.transform(self.load(close)), c)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--split", default="train")
    p.add_argument("--batches", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--flip", type=int, default=1)
    p.add_argument("--mean", type=float, nargs="+", required=True)
    p.add_argument("--std", type=float, nargs="+", required=True)
    args = p.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    ds = ShardTriplets(args.dir, args.split, args.mean, args.std, bool(args.flip))
    loader = torch.utils.data.DataLoader(ds, batch_size=args.batch_size, shuffle=True,
                                         num_workers=args.workers)
    it = iter(loader)
    next(it)  # warm-up: worker start and first reads are not steady state
    n = 0
    start = time.perf_counter()
    for _ in range(args.batches):
        anchor, _far, _close, _cond = next(it)
        n += anchor.shape[0]
    seconds = time.perf_counter() - start
    print(json.dumps({"triplets_per_s": n / seconds, "triplets": n, "seconds": seconds,
                      "batch_size": args.batch_size, "workers": args.workers,
                      "torch": torch.__version__}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
