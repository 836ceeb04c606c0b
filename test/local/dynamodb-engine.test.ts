/**
 * The local stack's DynamoDB is AWS's DynamoDB Local, tried with the SDKs as a user would: what dynalite lacked
 * answers as on AWS (TransactGetItems, DynamoDB Streams, isolated conditional transactions), an acknowledged
 * write survives kill -9 of the stack, and the JVM never outlives the stack.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand, TransactGetItemsCommand, TransactWriteItemsCommand, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, ListStreamsCommand } from '@aws-sdk/client-dynamodb-streams';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '#local/bench/stats.ts';
import { alive, checkJava, JavaRuntimeMissingError, startDynamoLocal } from '#local/dynamodb.ts';
import { REPO_ROOT } from '#local/stack.ts';
import { startChildStack } from '#local/trials/child-stack.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';

const parentOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
const childrenOf = (pid: number) => spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
const gone = (pid: number) => pollUntil(`process ${pid} to exit`, 30_000, 50, () => (alive(pid) ? undefined : true));

describe('the local stack’s DynamoDB, through the SDKs', () => {
  let stack: TestStack;
  let dynamodb: DynamoDBClient;
  beforeAll(async () => {
    stack = await startTestStack();
    dynamodb = new DynamoDBClient({ endpoint: stack.endpoints.dynamodb, region: stack.region, credentials: stack.credentials });
  });
  afterAll(async () => {
    dynamodb?.destroy();
    await stack?.stop();
  });

  it('lists the decision log’s stream, ENABLED with new images, as the template specifies', async () => {
    const streams = new DynamoDBStreamsClient({ endpoint: stack.endpoints.dynamodb, region: stack.region, credentials: stack.credentials });
    try {
      const { Streams = [] } = await streams.send(new ListStreamsCommand({ TableName: stack.tables.decisions }));
      expect(Streams.map((s) => s.TableName)).toEqual([stack.tables.decisions]);
      const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: Streams[0]!.StreamArn }));
      expect(StreamDescription).toMatchObject({ StreamStatus: 'ENABLED', StreamViewType: 'NEW_IMAGE', TableName: stack.tables.decisions });
    } finally {
      streams.destroy();
    }
  });

  it('answers TransactGetItems', async () => {
    await stack.clients.doc.send(new PutCommand({ TableName: stack.tables.requests, Item: { requestId: 'tg-1', note: 'one' } }));
    await stack.clients.doc.send(new PutCommand({ TableName: stack.tables.decisions, Item: { requestId: 'tg-1', eventKey: 'e#1', note: 'two' } }));
    const out = await dynamodb.send(
      new TransactGetItemsCommand({
        TransactItems: [
          { Get: { TableName: stack.tables.requests, Key: { requestId: { S: 'tg-1' } } } },
          { Get: { TableName: stack.tables.decisions, Key: { requestId: { S: 'tg-1' }, eventKey: { S: 'e#1' } } } },
        ],
      }),
    );
    expect(out.Responses?.map((r) => r.Item?.note?.S)).toEqual(['one', 'two']);
  });

  it('50 concurrent conditional transactions on one item: 1 winner, 49 ConditionalCheckFailed', async () => {
    const attempts = Array.from({ length: 50 }, (_, i) =>
      dynamodb.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: stack.tables.requests, Item: { requestId: { S: 'race-1' }, winner: { N: String(i) } }, ConditionExpression: 'attribute_not_exists(requestId)' } },
            { Put: { TableName: stack.tables.decisions, Item: { requestId: { S: 'race-1' }, eventKey: { S: `final#${i}` } } } },
          ],
        }),
      ),
    );
    const results = await Promise.allSettled(attempts);
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(49);
    for (const err of lost) {
      expect(err).toBeInstanceOf(TransactionCanceledException);
      expect((err as TransactionCanceledException).CancellationReasons?.map((r) => r.Code)).toEqual(['ConditionalCheckFailed', 'None']);
    }
    const { Item } = await stack.clients.doc.send(new GetCommand({ TableName: stack.tables.requests, Key: { requestId: 'race-1' }, ConsistentRead: true }));
    expect(Item?.winner).toBe(won[0]);
    const log = await stack.clients.doc.send(new GetCommand({ TableName: stack.tables.decisions, Key: { requestId: 'race-1', eventKey: `final#${won[0]}` } }));
    expect(log.Item).toBeDefined();
  });
});

describe('DynamoDB Local as the stack’s child', () => {
  it('keeps an acknowledged PutItem through kill -9 of the stack, whose JVM dies with it', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'hitl-ddb-kill9-'));
    let child = await startChildStack({ stateDir });
    try {
      const jvm = Number(readFileSync(join(stateDir, 'dynamodb', 'jvm.pid'), 'utf8'));
      expect(alive(jvm)).toBe(true);
      await child.clients.doc.send(new PutCommand({ TableName: child.tables.requests, Item: { requestId: 'acknowledged', note: 'kept' } }));
      await child.kill('SIGKILL');
      await gone(jvm);

      child = await child.restart();
      const { Item } = await child.clients.doc.send(new GetCommand({ TableName: child.tables.requests, Key: { requestId: 'acknowledged' }, ConsistentRead: true }));
      expect(Item).toEqual({ requestId: 'acknowledged', note: 'kept' });
    } finally {
      await child.kill('SIGKILL');
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('a start stops a JVM an earlier start left running on the same database, and keeps its data', async () => {
    const dbPath = mkdtempSync(join(tmpdir(), 'hitl-ddb-orphan-'));
    const first = await startDynamoLocal({ dbPath, port: 0 });
    let second: Awaited<ReturnType<typeof startDynamoLocal>> | undefined;
    try {
      const client = (endpoint: string) => new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
      const before = client(first.endpoint);
      await before.send(new CreateTableCommand({ TableName: 'kept', BillingMode: 'PAY_PER_REQUEST', KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'k', AttributeType: 'S' }] }));
      await before.send(new PutItemCommand({ TableName: 'kept', Item: { k: { S: 'written before' } } }));
      before.destroy();
      // The JVM's wrapper and its watcher die as if killed: the JVM runs on, an orphan holding the database.
      const wrapper = parentOf(first.pid);
      for (const pid of [...childrenOf(wrapper).filter((p) => p !== first.pid), wrapper]) process.kill(pid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 200));
      expect(alive(first.pid)).toBe(true);

      second = await startDynamoLocal({ dbPath, port: 0 });
      expect(alive(first.pid)).toBe(false);
      const after = client(second.endpoint);
      const { Item } = await after.send(new GetItemCommand({ TableName: 'kept', Key: { k: { S: 'written before' } }, ConsistentRead: true }));
      after.destroy();
      expect(Item).toEqual({ k: { S: 'written before' } });
    } finally {
      if (alive(first.pid)) process.kill(first.pid, 'SIGKILL');
      await second?.stop();
      rmSync(dbPath, { recursive: true, force: true });
    }
  });
});

describe('without a Java runtime', () => {
  it('says in one line what to install, and npm start exits 1 without a stack trace', () => {
    expect(() => checkJava('/nonexistent/java')).toThrow(JavaRuntimeMissingError);
    const stateDir = mkdtempSync(join(tmpdir(), 'hitl-nojava-'));
    try {
      const run = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'local', 'main.ts'), '--no-demo', '--state-dir', stateDir], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        env: { ...process.env, PATH: '/nonexistent', JAVA_HOME: '', NODE_NO_WARNINGS: '1' },
        timeout: 60_000,
      });
      expect(run.status).toBe(1);
      const lines = run.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^JavaRuntimeMissingError: .*apt-get install default-jre-headless.*Java ≥ 17/);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
