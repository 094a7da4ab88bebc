"""PyTorch CUDA half of bench/gpu_bench.sh: bench/train_ref.py's measurement (same network,
loss, optimiser, timing) on the GPU, twice: plain float32 (TF32 off, the arithmetic the tfjs
webgpu backend does) and with TF32 allowed (PyTorch's usual cuDNN default). Extra arguments
go to train_ref.py. Prints one JSON line {"float32": {...}, "tf32": {...}}; without a CUDA
GPU it prints {"error": ...}, says why on stderr and exits with 2.

  python3 bench/gpu_torch.py --size 112 --channels 3 --width 64 --batch 64 --steps 5
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def fail(message):
    print(f"gpu_torch: {message}", file=sys.stderr)
    print(json.dumps({"framework": "pytorch", "error": message}), flush=True)
    sys.exit(2)


def main(argv):
    try:
        import torch
    except ImportError as e:
        fail(f"PyTorch is not installed for {sys.executable} ({e})")
    if not torch.cuda.is_available():
        fail(f"torch {torch.__version__} sees no CUDA GPU (torch.cuda.is_available() is False; "
             f"built with CUDA {torch.version.cuda})")
    import train_ref

    out = {}
    for name, extra in (("float32", []), ("tf32", ["--tf32"])):
        args = train_ref.parser().parse_args(argv + ["--device", "cuda"] + extra)
        torch.set_num_threads(args.threads)
        out[name] = train_ref.run(args)
        print(f"gpu_torch: {name}: train {out[name]['train_triplets_per_s']} triplets/s, "
              f"eval {out[name]['eval_triplets_per_s']}", file=sys.stderr)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
