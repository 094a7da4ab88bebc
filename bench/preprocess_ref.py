"""Reference for bench/preprocess_bench.ts: what the CSN PyTorch reference does per image
(PIL open + convert('RGB'), torchvision Resize(112) = shorter side to 112 with PIL bilinear,
CenterCrop(112)), written out with PIL only, over every image (.jpg .png .webp .tif) under
DIR. Runs each worker count RUNS times and prints one JSON line:
{"images": N, "size": S, "runs": R, "images_per_s": {"1": median, "2": median},
 "seconds": {"1": [...], "2": [...]}, "peak_rss_bytes": largest worker's peak RSS}.
Run with /usr/bin/python3 (python3-pil).
"""
import argparse
import json
import os
import resource
import statistics
import time
from multiprocessing import Pool

from PIL import Image


def load(path, size):
    with Image.open(path) as im:
        im = im.convert("RGB")
        w, h = im.size
        # torchvision Resize(int): shorter side to size, longer truncated.
        if w <= h:
            ow, oh = size, int(size * h / w)
        else:
            ow, oh = int(size * w / h), size
        im = im.resize((ow, oh), Image.BILINEAR)
        left = int(round((ow - size) / 2.0))
        top = int(round((oh - size) / 2.0))
        im = im.crop((left, top, left + size, top + size))
        return len(im.tobytes())


def load_all(args):
    paths, size = args
    return sum(load(p, size) for p in paths)


def per_kind(list_path, size):
    """CPU ms per image for each kind: {kind: [paths]} in, {"cpu_ms_per_image": {...}} out."""
    kinds = json.load(open(list_path))
    out = {}
    for kind, paths in kinds.items():
        load(paths[0], size)  # warm up
        start = time.process_time()
        for p in paths:
            load(p, size)
        out[kind] = (time.process_time() - start) / len(paths) * 1000
    print(json.dumps({"cpu_ms_per_image": out}))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir", nargs="?")
    parser.add_argument("--per-kind", help="a JSON file {kind: [paths]}: CPU ms per image")
    parser.add_argument("--size", type=int, default=112)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    if args.per_kind:
        return per_kind(args.per_kind, args.size)
    paths = sorted(
        os.path.join(root, f)
        for root, _, files in os.walk(args.dir)
        for f in files
        if f.endswith((".jpg", ".png", ".webp", ".tif"))
    )
    rates = {}
    seconds = {}
    for workers in [int(w) for w in args.workers.split(",")]:
        times = []
        with Pool(workers) as pool:
            chunks = [(paths[i::workers], args.size) for i in range(workers)]
            pool.map(load_all, [(c[0][:4], args.size) for c in chunks])  # warm up
            for _ in range(args.runs):
                start = time.perf_counter()
                total = sum(pool.map(load_all, chunks))
                times.append(time.perf_counter() - start)
                assert total == len(paths) * args.size * args.size * 3
        rates[str(workers)] = len(paths) / statistics.median(times)
        seconds[str(workers)] = times
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print(json.dumps({"images": len(paths), "size": args.size, "runs": args.runs,
                      "images_per_s": rates, "seconds": seconds, "peak_rss_bytes": peak}))


if __name__ == "__main__":
    main()
