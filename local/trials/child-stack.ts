/**
 * The local stack as a child process (`local/main.ts --no-demo` on a given state directory and ports), for
 * trials that kill it at any moment with SIGKILL and start it again on the same state directory and ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { StackHandle } from '../bench/workload.ts';
import { readEndpointsFile, type EndpointsFile } from '../endpoints-file.ts';
import { PORT_FLAGS } from '../port-flags.ts';
import type { StoredEmail } from '../ses.ts';
import { REPO_ROOT, type Ports } from '../stack.ts';

export interface ChildStackOptions {
  stateDir: string;
  /** Ports to listen on; 0 (the default) picks free ones. A restart passes the ports the first start picked. */
  ports?: Partial<Ports>;
  /** Where the child synthesizes the CDK app; share one between starts to synthesize once. */
  cdkOutDir?: string;
  /** Acknowledge only what is synced to disk (`--fsync`). */
  fsync?: boolean;
  /** A JSON file of resources to add to the template (`--add-resources`), e.g. an event rule. */
  addResources?: string;
  startTimeoutMs?: number;
}

export interface ChildStack extends StackHandle {
  pid: number;
  /** The stack's endpoints file, as the child wrote it once it was up. */
  local: EndpointsFile;
  ports: Ports;
  /** The child's last lines of output, for a report that something went wrong. */
  output(): string;
  /** Kill the child (SIGKILL unless told otherwise) and wait until it is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Stop it as Ctrl-C would (SIGTERM), and wait. */
  stop(): Promise<void>;
  /** Start it again on the same state directory and ports (after kill or stop). */
  restart(): Promise<ChildStack>;
}

/** The default for trials: beside the test suite's synthesized templates. */
export const TRIAL_CDK_OUT = join(REPO_ROOT, 'node_modules', '.cache', 'hitl-local', 'cdk.out-trial');
const OUTPUT_LINES = 200;

/** Children still running when this process exits are killed with it, so no stack outlives its trial. */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startChildStack(options: ChildStackOptions): Promise<ChildStack> {
  const ports = Object.fromEntries(Object.keys(PORT_FLAGS).map((k) => [k, options.ports?.[k as keyof Ports] ?? 0])) as unknown as Ports;
  const args = [
    '--import',
    'tsx',
    join(REPO_ROOT, 'local', 'main.ts'),
    '--no-demo',
    '--state-dir',
    options.stateDir,
    '--cdk-out',
    options.cdkOutDir ?? TRIAL_CDK_OUT,
    ...(options.fsync ? ['--fsync'] : []),
    ...(options.addResources ? ['--add-resources', options.addResources] : []),
    ...Object.entries(PORT_FLAGS).flatMap(([key, p]) => [`--${p.flag}`, String(ports[key as keyof Ports])]),
  ];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - OUTPUT_LINES));
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const output = () => lines.join('\n');

  // Up once it has written its endpoints file, which it does last.
  const deadline = Date.now() + (options.startTimeoutMs ?? 120_000);
  let local: EndpointsFile | undefined;
  while (!local) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`The local stack exited while starting (${child.exitCode ?? child.signalCode}):\n${output()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`The local stack did not start within ${options.startTimeoutMs ?? 120_000} ms:\n${output()}`);
    }
    try {
      const file = readEndpointsFile(options.stateDir);
      if (file.pid === child.pid) local = file;
    } catch {
      // not written yet, or still the previous run's
    }
    if (!local) await new Promise((r) => setTimeout(r, 100));
  }

  const endpoint = (url: string) => ({ endpoint: url, region: local.region, credentials: local.credentials });
  // One attempt per call: a call cut off by a kill is unacknowledged, and must not land on the next start.
  const sfn = new SFNClient({ ...endpoint(local.endpoints.sfn), maxAttempts: 1 });
  const dynamodb = new DynamoDBClient(endpoint(local.endpoints.dynamodb));
  const doc = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  const actualPorts = Object.fromEntries(
    Object.entries({ ...local.endpoints, mailViewer: undefined }).flatMap(([k, url]) => (url ? [[k, Number(new URL(url).port)]] : [])),
  ) as unknown as Ports;

  const destroyClients = () => {
    sfn.destroy();
    dynamodb.destroy();
  };

  const stack: ChildStack = {
    pid: child.pid!,
    local,
    ports: actualPorts,
    stateMachineArn: local.stateMachineArn,
    tables: local.tables,
    endpoints: local.endpoints,
    clients: { sfn, doc },
    async emails() {
      const res = await fetch(`${local.endpoints.ses}/store`);
      return ((await res.json()) as { emails: StoredEmail[] }).emails;
    },
    output,
    async kill(signal = 'SIGKILL') {
      child.kill(signal);
      await exited(child);
      destroyClients();
    },
    async stop() {
      await stack.kill('SIGTERM');
    },
    restart: () => startChildStack({ ...options, ports: actualPorts }),
  };
  return stack;
}
