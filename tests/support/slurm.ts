/**
 * A throwaway single-node SLURM cluster on 127.0.0.1 for tests: its own munge key and socket,
 * slurm.conf (proctrack/linuxproc, task/none, no cgroups, no accounting) and state in a temp
 * folder; munged, slurmctld and slurmd run in the foreground as children and stop with it.
 * Needs Debian's munge, slurmctld, slurmd and slurm-client (.ci/install.sh).
 */
import { join } from "node:path";
import { exists, removeTree } from "../../shared/util/fs.ts";

export interface TestSlurm {
  /** The environment sbatch, squeue and scontrol need to reach this cluster. */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

export async function startSlurm(): Promise<TestSlurm> {
  for (const binary of ["munged", "slurmctld", "slurmd", "sbatch"]) {
    const found = await new Deno.Command("sh", { args: ["-c", `command -v ${binary}`] }).output();
    if (!found.success) {
      throw new Deno.errors.NotFound(
        `Cannot start the test cluster: ${binary} is missing (run .ci/install.sh)`,
      );
    }
  }
  const dir = await Deno.makeTempDir({ prefix: "csn-slurm-" });
  await Deno.mkdir(join(dir, "state"));
  await Deno.mkdir(join(dir, "spool"));
  const key = join(dir, "munge.key");
  await Deno.writeFile(key, crypto.getRandomValues(new Uint8Array(1024)), { mode: 0o400 });
  const socket = join(dir, "munge.socket");
  const host = Deno.hostname();
  const cpus = navigator.hardwareConcurrency;
  const conf = join(dir, "slurm.conf");
  await Deno.writeTextFile(
    conf,
    [
      "ClusterName=csntest",
      `SlurmctldHost=${host}(127.0.0.1)`,
      `SlurmctldPort=${freePort()}`,
      `SlurmdPort=${freePort()}`,
      "AuthType=auth/munge",
      `AuthInfo=socket=${socket}`,
      "CredType=cred/munge",
      `StateSaveLocation=${dir}/state`,
      `SlurmdSpoolDir=${dir}/spool`,
      `SlurmctldPidFile=${dir}/slurmctld.pid`,
      `SlurmdPidFile=${dir}/slurmd.pid`,
      `SlurmctldLogFile=${dir}/slurmctld.log`,
      `SlurmdLogFile=${dir}/slurmd.log`,
      "ProctrackType=proctrack/linuxproc",
      "TaskPlugin=task/none",
      "JobAcctGatherType=jobacct_gather/none",
      "AccountingStorageType=accounting_storage/none",
      "SchedulerType=sched/builtin",
      "SelectType=select/cons_tres",
      "SelectTypeParameters=CR_CPU",
      "SlurmUser=root",
      "SlurmdUser=root",
      "ReturnToService=2",
      "MpiDefault=none",
      "MinJobAge=600",
      "SchedulerParameters=sched_min_interval=0,batch_sched_delay=0",
      `NodeName=csn-node NodeAddr=127.0.0.1 NodeHostname=${host} CPUs=${cpus} RealMemory=2000 State=UNKNOWN`,
      "PartitionName=debug Nodes=csn-node Default=YES MaxTime=INFINITE State=UP",
      "",
    ].join("\n"),
  );
  const daemon = (binary: string, args: string[]) =>
    new Deno.Command(binary, { args, stdout: "null", stderr: "null" }).spawn();
  const children = [
    daemon("munged", [
      "-F",
      "--force",
      `--key-file=${key}`,
      `--socket=${socket}`,
      `--pid-file=${dir}/munged.pid`,
      `--log-file=${dir}/munged.log`,
      `--seed-file=${dir}/munge.seed`,
    ]),
  ];
  const env = { SLURM_CONF: conf };
  const stop = async () => {
    for (const child of children.reverse()) {
      child.kill("SIGTERM");
      await child.status;
    }
    await removeTree(dir);
  };
  try {
    await until(async () => (await exists(socket)), "munged's socket");
    children.push(daemon("slurmctld", ["-D", "-f", conf]));
    children.push(daemon("slurmd", ["-D", "-f", conf, "-N", "csn-node"]));
    await until(async () => {
      const out = await new Deno.Command("sinfo", { args: ["-h", "-o", "%t"], env }).output();
      return new TextDecoder().decode(out.stdout).trim() === "idle";
    }, "an idle node (see slurmctld.log)");
  } catch (error) {
    const file = join(dir, "slurmctld.log");
    const logs = (await exists(file)) ? await Deno.readTextFile(file) : "(no slurmctld.log)";
    await stop();
    throw new Error(`${(error as Error).message}\n${logs.slice(-2000)}`);
  }
  return { env, stop };
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Cannot start the test cluster: no ${what} after 15 s`);
}
