/**
 * The local stack: the synthesized template's functions, tables and state machine on 127.0.0.1. `npm start`,
 * the test helper and the e2e tests all start it through `startLocalStack`.
 */
import type { Server } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { decodeConfigEnv } from '#shared/config-env.ts';
import { ENV } from '#shared/env.ts';
import { LOCAL_ACCOUNT, LOCAL_CREDENTIALS, LOCAL_REGION, functionArn, functionNameOf } from './aws-ids.ts';
import { systemClock, type Clock } from './clock.ts';
import { checkJava, ensureTables, startDynamoLocal } from './dynamodb.ts';
import { startThreadServer } from './server-thread.ts';
import { EventBus } from './events/bus.ts';
import { forwardRules, type LocalForward } from './events/forwards.ts';
import { createEventsServer } from './events/server.ts';
import { closeServer, listen, urlOf } from './http.ts';
import { writeEndpointsFile, type Endpoints, type EndpointsFile } from './endpoints-file.ts';
import { ensurePrivateDir } from './json-file.ts';
import { LocalLambda, type LambdaHandler } from './lambda.ts';
import { readStackResources, type FunctionResource, type StackResources } from './resources.ts';
import { createRespondServer, type JwtApi } from './respond-server.ts';
import { ensureIssuerKeys, ISSUER_KEY_FILE, jwksOf, jwtAuthorizer } from './in-app-issuer.ts';
import { SchedulerEngine } from './scheduler/engine.ts';
import { createSchedulerServer } from './scheduler/server.ts';
import { createSecretsServer, ensureKeyRing, ensureWebhookSecret, type LocalSecret } from './secrets.ts';
import type { StoredEmail } from './ses.ts';
import { createSlackServer, ensureSlackCredentials, type LocalSlack, type SlackCredentials } from './slack.ts';
import { SfnEngine } from './sfn/engine.ts';
import { createSfnServer } from './sfn/server.ts';
import { statusChangeEvent } from './sfn/status-events.ts';
import { synthesize } from './synth.ts';
import { TemplateResolver, type Template } from './template.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_STATE_DIR = join(REPO_ROOT, '.hitl');

export interface Ports {
  /** The reviewers' endpoint (review links). */
  respond: number;
  /** SES API and the mail viewer. */
  ses: number;
  sfn: number;
  scheduler: number;
  dynamodb: number;
  secretsManager: number;
  /** EventBridge (PutEvents and friends). */
  events: number;
  /** The Slack Web API stand-in; started only when the config enables Slack. */
  slack: number;
}

/**
 * Fixed defaults, so links in emails and `.hitl/local.json` stay the same across restarts: the usual ports of
 * aws-ses-v2-local, Step Functions Local and DynamoDB Local where they have one.
 */
export const DEFAULT_PORTS: Ports = { respond: 8787, ses: 8005, sfn: 8083, scheduler: 8084, dynamodb: 8000, secretsManager: 8085, events: 8086, slack: 8089 };

export type { Endpoints } from './endpoints-file.ts';

export interface LocalStackOptions {
  /** Where state lives: tables, executions, schedules, emails, keys, `local.json`. @default `<repo>/.hitl` */
  stateDir?: string;
  /** Ports to listen on (127.0.0.1); 0 picks a free one. @default DEFAULT_PORTS */
  ports?: Partial<Ports>;
  /** The Scheduler's clock; a ManualClock lets tests fire schedules with `scheduler.advanceBy`. @default the system clock */
  clock?: Clock;
  /** Pause before each state machine Retry, in ms, instead of the definition's intervals (tests). */
  retryIntervalMs?: number;
  /** Pause before each Scheduler delivery retry, in ms (tests). */
  scheduleRetryDelayMs?: number;
  /** Pause before each event bus delivery retry, in ms (tests). */
  eventRetryDelayMs?: number;
  /**
   * Also wait for the disk (fsync) before acknowledging a change, not only for the OS: what was acknowledged
   * then survives power loss, not just a killed process. @default false
   */
  fsync?: boolean;
  /** Change the synthesized template before it is resolved, e.g. add a resource the CDK app does not have yet (tests). */
  amendTemplate?: (template: Template) => void;
  /** CDK context on top of cdk.json's, e.g. `{ hitl: { ...config } }`. */
  context?: Record<string, unknown>;
  /** Where to synthesize; reused while infra/, shared/ and cdk.json are unchanged. @default `<stateDir>/cdk.out` */
  cdkOutDir?: string;
  forceSynth?: boolean;
  /** Extra environment for every function, e.g. `{ POWERTOOLS_LOG_LEVEL: 'DEBUG' }`. */
  env?: Record<string, string>;
  /** Log level of the functions (Powertools). @default 'WARN' */
  functionLogLevel?: string;
  /** The stack's own messages (what started, replays, schedule retries). @default none */
  log?: (line: string) => void;
  /** Also report each function invocation to `log`. */
  logInvocations?: boolean;
  /**
   * Local-only targets for every `hitl.decision` event on the decision bus: an HTTP URL each event is POSTed
   * to, or a JSON Lines file each is appended to (see local/events/forwards.ts).
   */
  forwardEvents?: readonly LocalForward[];
  /**
   * A DynamoDB that is already running (tests share one engine per run) instead of the stack's own DynamoDB
   * Local in `<stateDir>/dynamodb`; `tablePrefix` keeps this stack's tables apart from the others'.
   */
  dynamodb?: { endpoint: string; tablePrefix: string };
}

export interface LocalStack {
  stateDir: string;
  ports: Ports;
  endpoints: Endpoints;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  stackName: string;
  stateMachineArn: string;
  tables: { requests: string; decisions: string };
  scheduleGroup: string | undefined;
  signingKeyFile: string;
  /** The decision webhooks' signing secret, when the config turns webhooks on. */
  webhookSecretFile: string | undefined;
  /** Whether acknowledged changes are synced to disk (fsync), not only written. */
  fsync: boolean;
  /** Environment that points the AWS SDKs and CLIs at this stack. */
  clientEnv: Record<string, string>;
  clients: { sfn: SFNClient; dynamodb: DynamoDBClient; doc: DynamoDBDocumentClient; scheduler: SchedulerClient; events: EventBridgeClient };
  sfn: SfnEngine;
  scheduler: SchedulerEngine;
  events: EventBus;
  lambda: LocalLambda;
  resources: StackResources;
  /** Executions a restart replayed. */
  replayed: string[];
  synth: { cached: boolean; durationMs: number };
  /** The in-app API, when the config enables in-app answers (its routes are on the respond port). */
  inApp?: EndpointsFile['inApp'];
  /** Emails in the mail viewer, oldest first. */
  emails(): Promise<StoredEmail[]>;
  /** The Slack stand-in and the app's local credentials, when the config enables Slack. */
  slack?: LocalSlack & { apiUrl: string; credentials: SlackCredentials };
  stop(): Promise<void>;
}

/** Environment keys that configure the Node runtime rather than the handler; not applied in this process. */
const RUNTIME_ONLY_ENV = new Set(['NODE_OPTIONS', 'AWS_NODEJS_CONNECTION_REUSE_ENABLED']);

let loadedWithEndpoints: string | undefined;

export class StaleHandlersError extends Error {
  constructor() {
    super(
      'The handlers were already loaded in this process for a local stack on other ports, and they keep their SDK clients. ' +
        'Start the stack again on the same ports (pass the first stack’s `ports`), or use a new process.',
    );
    this.name = 'StaleHandlersError';
  }
}

function resolvePorts(ports: Partial<Ports> | undefined): Ports {
  return { ...DEFAULT_PORTS, ...ports };
}

function endpointEnv(endpoints: Endpoints): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SES: endpoints.ses,
    AWS_ENDPOINT_URL_SESV2: endpoints.ses,
    AWS_ENDPOINT_URL_SFN: endpoints.sfn,
    AWS_ENDPOINT_URL_SCHEDULER: endpoints.scheduler,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secretsManager,
    AWS_ENDPOINT_URL_EVENTBRIDGE: endpoints.events,
  };
}

/**
 * Split the functions' variables into those every function has with the same value (set once for the
 * process) and each function's own (applied while its module loads, since handlers read env at module scope).
 */
function splitEnv(functions: readonly FunctionResource[]): { common: Record<string, string>; own: Map<string, Record<string, string>>; conflicts: string[] } {
  const keys = new Set(functions.flatMap((f) => Object.keys(f.env)).filter((k) => !RUNTIME_ONLY_ENV.has(k)));
  const common: Record<string, string> = {};
  const conflicts: string[] = [];
  for (const key of keys) {
    const values = new Set(functions.map((f) => f.env[key]));
    if (values.size === 1 && !values.has(undefined)) common[key] = functions[0]!.env[key]!;
    else if ([...values].filter((v) => v !== undefined).length > 1) conflicts.push(key);
  }
  const own = new Map(functions.map((f) => [f.logicalId, Object.fromEntries(Object.entries(f.env).filter(([k]) => keys.has(k) && !(k in common)))]));
  return { common, own, conflicts };
}

/** The logical ids of the functions behind HTTP API integrations: all of them, or those of one API. */
function integratedFunctions(resolver: TemplateResolver, apiId?: string): Set<string> {
  return new Set(
    resolver
      .resourcesOfType('AWS::ApiGatewayV2::Integration')
      .map(([, r]) => r.Properties as { ApiId?: { Ref?: string }; IntegrationUri?: unknown } | undefined)
      .filter((p) => apiId === undefined || p?.ApiId?.Ref === apiId)
      .map((p) => resolver.resolve(p?.IntegrationUri ?? null))
      .filter((uri): uri is string => typeof uri === 'string')
      .map(functionNameOf),
  );
}

/** The HTTP API with a JWT authorizer (the in-app API): its id, issuer, audiences and route keys. */
function findJwtApi(resolver: TemplateResolver): { apiId: string; issuer: string; audience: string[]; routeKeys: string[] } | undefined {
  for (const [, r] of resolver.resourcesOfType('AWS::ApiGatewayV2::Authorizer')) {
    const p = resolver.resolve(r.Properties ?? {}) as { AuthorizerType?: string; JwtConfiguration?: { Issuer?: string; Audience?: string[] } };
    const apiId = (r.Properties as { ApiId?: { Ref?: string } } | undefined)?.ApiId?.Ref;
    if (p.AuthorizerType !== 'JWT' || !apiId || !p.JwtConfiguration?.Issuer) continue;
    const routeKeys = resolver
      .resourcesOfType('AWS::ApiGatewayV2::Route')
      .map(([, route]) => route.Properties as { ApiId?: { Ref?: string }; RouteKey?: string } | undefined)
      .filter((rp) => rp?.ApiId?.Ref === apiId && typeof rp.RouteKey === 'string')
      .map((rp) => rp!.RouteKey!);
    return { apiId, issuer: p.JwtConfiguration.Issuer, audience: p.JwtConfiguration.Audience ?? [], routeKeys };
  }
  return undefined;
}

function findRespondFunction(resolver: TemplateResolver, resources: StackResources, except: Set<string>): string | undefined {
  const targets = integratedFunctions(resolver);
  return resources.functions.find((f) => targets.has(f.logicalId) && !except.has(f.logicalId))?.logicalId;
}

/** The deployment config the functions receive, as JSON (undefined if they receive none or it is not JSON). */
function configOf(resources: StackResources): unknown {
  const config = resources.functions.map((f) => f.env[ENV.config]).find((v) => v !== undefined);
  try {
    return config === undefined ? undefined : decodeConfigEnv(config, ENV.config);
  } catch {
    return undefined;
  }
}

/** Group names from the deployment config the functions receive (for the CLI's default group). */
function reviewerGroupsOf(resources: StackResources): string[] {
  return Object.keys((configOf(resources) as { reviewerGroups?: Record<string, unknown> } | undefined)?.reviewerGroups ?? {});
}

/** The Slack app's secret (infra/constructs/slack-channel.ts); every other secret is the link-signing key ring. */
function isSlackSecret(secret: { logicalId: string }): boolean {
  return secret.logicalId.startsWith('SlackChannel');
}

function tableFromEnv(resources: StackResources, key: string): string {
  const value = resources.functions.map((f) => f.env[key]).find((v) => v !== undefined);
  return value ?? '';
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const log = options.log ?? (() => undefined);
  if (!options.dynamodb) checkJava();
  const stateDir = resolve(options.stateDir ?? DEFAULT_STATE_DIR);
  ensurePrivateDir(stateDir);
  const fsync = options.fsync ?? false;
  const wanted = resolvePorts(options.ports);
  const cleanup: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    for (const step of cleanup.reverse()) {
      try {
        await step();
      } catch (err) {
        log(`while stopping: ${(err as Error).message}`);
      }
    }
    cleanup.length = 0;
  };

  try {
    // The JVM starts meanwhile (seconds); it stops last, after the handlers that use it.
    const dynamoStarting = options.dynamodb ? undefined : startDynamoLocal({ dbPath: join(stateDir, 'dynamodb'), port: wanted.dynamodb, log });
    cleanup.push(async () => (await dynamoStarting?.catch(() => undefined))?.stop());
    const synth = await synthesize({ repoRoot: REPO_ROOT, outDir: options.cdkOutDir ?? join(stateDir, 'cdk.out'), context: options.context, force: options.forceSynth });
    log(synth.cached ? 'template unchanged since the last synth' : `synthesized ${synth.stackName} in ${(synth.durationMs / 1000).toFixed(1)} s`);

    // The respond server first: its URL is the stack's API URL, which the template wires into the functions.
    let respondInvoke: ((event: APIGatewayProxyEventV2) => Promise<unknown>) | undefined;
    let jwtApiTarget: JwtApi | undefined;
    const respondServer = createRespondServer(() => respondInvoke, log, () => jwtApiTarget);
    const respondPort = await listen(respondServer, wanted.respond, 'review links (respond)');
    cleanup.push(() => closeServer(respondServer));
    const respondUrl = urlOf(respondPort);

    const template = structuredClone(synth.template);
    options.amendTemplate?.(template);
    const resolver = new TemplateResolver(template, { stackName: synth.stackName, respondUrl, tablePrefix: options.dynamodb?.tablePrefix });
    const resources = readStackResources(resolver);
    // Review links lead to the local respond server, also when the config names a custom domain (publicBaseUrl).
    for (const fn of resources.functions) if (fn.env[ENV.baseUrl] !== undefined) fn.env[ENV.baseUrl] = `${respondUrl}/`;
    const stateMachine = resources.stateMachines[0];
    if (!stateMachine) throw new Error(`The synthesized stack ${synth.stackName} has no state machine`);

    const { common, own, conflicts } = splitEnv(resources.functions);
    if (conflicts.length) log(`functions disagree on ${conflicts.join(', ')}; in one process, a handler reading them after start-up sees one of the values`);
    const lambda = new LocalLambda(
      resources.functions.map((fn) => ({
        name: fn.logicalId,
        timeoutSeconds: fn.timeoutSeconds,
        memoryMb: fn.memoryMb,
        load: () => loadHandler(fn, own.get(fn.logicalId) ?? {}),
      })),
      {
        onInvoke: options.logInvocations
          ? (r) => log(`${r.functionName} ${r.durationMs} ms${r.error ? ` failed: ${r.error}` : ''}`)
          : (r) => (r.error ? log(`${r.functionName} failed: ${r.error}`) : undefined),
      },
    );

    const decisionBus = resources.functions.map((f) => f.env[ENV.eventBusName]).find((v) => v !== undefined);
    const forwards = options.forwardEvents ?? [];
    if (forwards.length && !decisionBus) log('the template has no decision bus: events are not forwarded');
    const events = new EventBus({
      rules: [...resources.eventRules, ...(decisionBus ? forwardRules(forwards, { bus: decisionBus }) : [])],
      buses: resources.eventBuses,
      lambda,
      journalFile: join(stateDir, 'events.jsonl'),
      deadLetterFile: join(stateDir, 'event-dlq.jsonl'),
      fsync,
      retryDelayMs: options.eventRetryDelayMs,
      log,
    });
    const sfn = new SfnEngine({
      stateMachines: resources.stateMachines.map((sm) => ({ arn: sm.arn, name: sm.name, definition: sm.definition, roleArn: sm.roleArn })),
      lambda,
      executionsDir: join(stateDir, 'executions'),
      fsync,
      statusEvents: { announce: (record, status) => events.putServiceEvent(statusChangeEvent(record, status)), durable: () => events.durable() },
      retryIntervalMs: options.retryIntervalMs,
      log,
    });
    const scheduler = new SchedulerEngine({
      lambda,
      groups: resources.scheduleGroups,
      clock: options.clock ?? systemClock,
      stateFile: join(stateDir, 'schedules.json'),
      deadLetterFile: join(stateDir, 'schedule-dlq.json'),
      fsync,
      retryDelayMs: options.scheduleRetryDelayMs,
      log,
    });

    const signingKeyFile = join(stateDir, 'signing-keys.json');
    ensureKeyRing(signingKeyFile, log);
    // The webhook signing secret is the one the functions name in HITL_WEBHOOK_SECRET_ID; the Slack app's is its own; the others hold link keys.
    const webhookSecretId = resources.functions.map((f) => f.env[ENV.webhookSecretId]).find((v) => v !== undefined);
    const webhookSecretFile = webhookSecretId ? join(stateDir, 'webhook-secret') : undefined;
    if (webhookSecretFile) ensureWebhookSecret(webhookSecretFile);
    const slackConfigured = (configOf(resources) as { slack?: unknown } | undefined)?.slack !== undefined;
    const slackSecretFile = join(stateDir, 'slack.json');
    const slackCredentials = slackConfigured ? ensureSlackCredentials(slackSecretFile, log) : undefined;
    const secretFile = (s: { arn: string; logicalId: string }) => (s.arn === webhookSecretId ? webhookSecretFile! : isSlackSecret(s) ? slackSecretFile : signingKeyFile);
    const secrets: LocalSecret[] = resources.secrets.map((s) => ({ name: s.name, arn: s.arn, file: secretFile(s) }));

    const servers: [keyof Ports, Server, string][] = [
      ['sfn', createSfnServer(sfn), 'Step Functions API'],
      ['scheduler', createSchedulerServer(scheduler), 'Scheduler API'],
      ['secretsManager', createSecretsServer(secrets), 'Secrets Manager'],
      ['events', createEventsServer(events), 'EventBridge API'],
    ];
    const ports: Ports = { ...wanted, respond: respondPort };
    // DynamoDB is AWS's DynamoDB Local, a JVM of its own; SES in a worker thread: the handlers and the engine keep this thread.
    ports.dynamodb = options.dynamodb ? Number(new URL(options.dynamodb.endpoint).port) : (await dynamoStarting!).port;
    const ses = await startThreadServer({ kind: 'ses', what: 'SES and the mail viewer', path: join(stateDir, 'mail.jsonl'), fsync, port: wanted.ses }, log);
    cleanup.push(() => ses.close());
    ports.ses = ses.port;
    for (const [key, server, what] of servers) {
      ports[key] = await listen(server, wanted[key], what);
      cleanup.push(() => closeServer(server));
    }

    let slack: LocalStack['slack'];
    if (slackCredentials) {
      const standIn = createSlackServer(slackCredentials);
      ports.slack = await listen(standIn.server, wanted.slack, 'Slack Web API stand-in');
      cleanup.push(() => closeServer(standIn.server));
      slack = Object.assign(standIn, { apiUrl: `${urlOf(ports.slack)}/api/`, credentials: slackCredentials });
    }

    const endpoints: Endpoints = {
      respond: respondUrl,
      mailViewer: `${urlOf(ports.ses)}/`,
      ses: urlOf(ports.ses),
      sfn: urlOf(ports.sfn),
      scheduler: urlOf(ports.scheduler),
      dynamodb: urlOf(ports.dynamodb),
      secretsManager: urlOf(ports.secretsManager),
      events: urlOf(ports.events),
      ...(slack ? { slack: slack.apiUrl } : {}),
    };
    const clientEnv: Record<string, string> = {
      AWS_REGION: LOCAL_REGION,
      AWS_DEFAULT_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      ...endpointEnv(endpoints),
    };

    // One process for all handlers: what they share is set once, before any handler module loads.
    const signature = JSON.stringify(endpointEnv(endpoints));
    if (loadedWithEndpoints !== undefined && loadedWithEndpoints !== signature) throw new StaleHandlersError();
    delete process.env.AWS_PROFILE;
    delete process.env.AWS_SESSION_TOKEN;
    Object.assign(process.env, clientEnv, common, {
      POWERTOOLS_LOG_LEVEL: options.functionLogLevel ?? 'WARN',
      POWERTOOLS_METRICS_DISABLED: 'true',
      ...(slack ? { [ENV.slackApiUrl]: slack.apiUrl } : {}),
      ...options.env,
    });
    loadedWithEndpoints = signature;

    await ensureTables(endpoints.dynamodb, resources.tables, log);
    await lambda.load();
    events.start();
    // Handlers that read a variable only when first invoked find it too (values of the last function win).
    for (const vars of own.values()) Object.assign(process.env, vars, options.env);

    const jwt = findJwtApi(resolver);
    const appFunctions = jwt ? integratedFunctions(resolver, jwt.apiId) : new Set<string>();
    const respondFunction = findRespondFunction(resolver, resources, appFunctions);
    if (respondFunction) respondInvoke = (event) => lambda.invoke(respondFunction, event);
    else log('no function behind an HTTP API in the template; the respond server answers 503');
    let inApp: EndpointsFile['inApp'];
    const appFunction = [...appFunctions][0];
    if (jwt && appFunction) {
      const keys = await ensureIssuerKeys(stateDir);
      const authorize = jwtAuthorizer(jwksOf(keys), { issuer: jwt.issuer, audience: jwt.audience });
      jwtApiTarget = { routeKeys: jwt.routeKeys, authorize, invoke: (event) => lambda.invoke(appFunction, event) };
      inApp = { url: respondUrl, issuer: jwt.issuer, audience: jwt.audience, keyFile: join(stateDir, ISSUER_KEY_FILE), jwks: jwksOf(keys) };
    }

    // Replayed executions re-issue their task tokens before any overdue expiry schedule fires.
    const replayed = sfn.resume();
    if (replayed.length) {
      log(`replaying ${replayed.length} execution(s) that were waiting when the stack stopped`);
      await sfn.settled(replayed).catch((err: Error) => log(`${err.message}; starting the Scheduler anyway`));
    }
    cleanup.push(() => sfn.shutdown());
    for (const s of resources.recurringSchedules) {
      scheduler.addTemplateSchedule({
        Name: s.name.slice(0, 64),
        ScheduleExpression: s.expression,
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: s.targetArn, RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/events`, Input: s.input, RetryPolicy: { MaximumRetryAttempts: s.maxRetries ?? 0 } },
      });
    }
    scheduler.resume();
    cleanup.push(() => scheduler.shutdown());

    const clients = {
      sfn: new SFNClient({ endpoint: endpoints.sfn, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }),
      dynamodb: new DynamoDBClient({ endpoint: endpoints.dynamodb, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }),
      scheduler: new SchedulerClient({ endpoint: endpoints.scheduler, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }),
      events: new EventBridgeClient({ endpoint: endpoints.events, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }),
    };
    const doc = DynamoDBDocumentClient.from(clients.dynamodb, { marshallOptions: { removeUndefinedValues: true } });
    cleanup.push(() => {
      for (const c of Object.values(clients)) c.destroy();
    });

    // Stopping: no new decisions, firings or tasks; let running handlers finish before their services go.
    cleanup.push(async () => {
      await closeServer(respondServer);
      await scheduler.shutdown();
      await sfn.shutdown();
      await events.shutdown();
      await lambda.idle(5000);
    });

    const tables = { requests: tableFromEnv(resources, ENV.requestsTable), decisions: tableFromEnv(resources, ENV.decisionsTable) };
    const scheduleGroup = resources.functions.map((f) => f.env[ENV.scheduleGroup]).find((v) => v !== undefined) ?? resources.scheduleGroups[0];
    writeEndpointsFile(stateDir, {
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      credentials: { ...LOCAL_CREDENTIALS },
      endpoints,
      stackName: synth.stackName,
      stateMachineArn: stateMachine.arn,
      stateMachines: Object.fromEntries(resources.stateMachines.map((sm) => [sm.name, sm.arn])),
      tables,
      tableNames: Object.fromEntries(resources.tables.map((t) => [t.logicalId, t.name])),
      functions: Object.fromEntries(resources.functions.map((f) => [f.logicalId, { arn: functionArn(f.logicalId), handler: f.handlerFile }])),
      scheduleGroup,
      signingSecretId: resources.secrets.find((s) => s.arn !== webhookSecretId && !isSlackSecret(s))?.arn,
      webhookSecretId,
      reviewerGroups: reviewerGroupsOf(resources),
      ...(inApp ? { inApp } : {}),
      config: configOf(resources),
      env: clientEnv,
      pid: process.pid,
      startedAt: new Date().toISOString(),
    });

    return {
      stateDir,
      ports,
      endpoints,
      region: LOCAL_REGION,
      credentials: { ...LOCAL_CREDENTIALS },
      stackName: synth.stackName,
      stateMachineArn: stateMachine.arn,
      tables,
      scheduleGroup,
      signingKeyFile,
      webhookSecretFile,
      fsync,
      clientEnv,
      clients: { ...clients, doc },
      sfn,
      scheduler,
      events,
      lambda,
      resources,
      replayed,
      synth: { cached: synth.cached, durationMs: synth.durationMs },
      ...(inApp ? { inApp } : {}),
      async emails() {
        const res = await fetch(`${endpoints.ses}/store`);
        return ((await res.json()) as { emails: StoredEmail[] }).emails;
      },
      ...(slack ? { slack } : {}),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Import a handler module with its function's own variables in place, as its cold start would see them. */
async function loadHandler(fn: FunctionResource, ownEnv: Record<string, string>): Promise<LambdaHandler> {
  const saved = Object.fromEntries(Object.keys(ownEnv).map((k) => [k, process.env[k]]));
  Object.assign(process.env, ownEnv);
  try {
    const mod = (await import(pathToFileURL(join(REPO_ROOT, fn.handlerFile)).href)) as Record<string, unknown>;
    const handler = mod[fn.exportName];
    if (typeof handler !== 'function') throw new Error(`${fn.handlerFile} does not export a function named ${fn.exportName}`);
    return handler as LambdaHandler;
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
