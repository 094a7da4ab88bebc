/**
 * Training precision: fp32 everywhere (the default), or bf16 mixed precision as PyTorch's CPU
 * autocast does it: convolutions compute in bf16 (inputs and weights rounded to bf16 on the
 * way in, products accumulated and written in fp32), while master weights, Adam, BatchNorm
 * statistics and the loss stay fp32. Only the native backend on a CPU whose oneDNN dispatch
 * ISA computes bf16 (AVX-512 BF16 or AMX) runs it; elsewhere bf16 is refused, never emulated.
 */
export const PRECISIONS = ["fp32", "bf16"] as const;
export type Precision = (typeof PRECISIONS)[number];

/** Whether oneDNN's dispatch ISA (as its name, e.g. "avx512_core_bf16") computes bf16. */
export function isaHasBf16(isa: string): boolean {
  return isa.includes("bf16") || isa.includes("amx");
}

/** Throws unless `backend` (with oneDNN's `isa` for native) can train in `precision`. */
export function checkPrecision(precision: Precision, backend: string, isa?: string): void {
  if (precision === "fp32") return;
  if (backend !== "native") {
    throw new TypeError(
      `Cannot train in bf16: backend "${backend}" computes in fp32 only; bf16 needs the native ` +
        `backend (oneDNN) on a CPU with AVX-512 BF16 or AMX, or train.precision=fp32`,
    );
  }
  if (!isa || !isaHasBf16(isa)) {
    throw new TypeError(
      `Cannot train in bf16: oneDNN on this CPU dispatches ${isa ?? "an unknown ISA"}, which ` +
        `has no bf16 arithmetic (expected avx512_core_bf16 or avx512_core_amx); use ` +
        `train.precision=fp32`,
    );
  }
}
