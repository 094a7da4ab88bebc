# The csn image for cluster jobs (Argo tasks, SLURM nodes without Deno): Debian, Deno from npm,
# the locked npm dependencies installed at build time. Jobs run `deno task stage ... --job`
# against an S3 store (CSN_STORE, AWS_* from the environment).
FROM debian:bookworm-slim

# libdnnl2: oneDNN, which the native backend loads (without it jobs fall back to wasm, ~6x slower).
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates nodejs npm libdnnl2 \
  && npm install -g deno@2.9.6 \
  && npm cache clean --force \
  && rm -rf /var/lib/apt/lists/*

WORKDIR /csn
COPY deno.json deno.lock ./
COPY shared/ shared/
COPY stages/ stages/
COPY pipelines/ pipelines/
COPY bench/ bench/
RUN deno install --frozen \
  && deno cache --frozen shared/cli/stage_main.ts shared/cli/pipeline_main.ts

ENV DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
ENTRYPOINT ["deno"]
CMD ["task", "pipeline", "--help"]
