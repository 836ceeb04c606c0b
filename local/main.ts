/**
 * `npm start`: the local stack on 127.0.0.1 plus the demo agent. Ctrl-C stops everything; state stays in
 * `.hitl/` for the next start. Ports and options: `npm start -- --help`, or docs/local-stack.md.
 */
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CONFIG_FILE_CONTEXT_KEY } from '#infra/config.ts';
import { ConfigError } from '#shared/errors.ts';
import { parseDeploymentConfig } from '#shared/schemas/config.ts';
import { runDemoAgent } from './demo-agent.ts';
import { PORT_FLAGS } from './port-flags.ts';
import { DEFAULT_PORTS, DEFAULT_STATE_DIR, startLocalStack, type LocalStack, type Ports } from './stack.ts';
import { parseForward } from './events/forwards.ts';
import type { Template } from './template.ts';

const HELP = `npm start [-- options]   the hitl local stack on 127.0.0.1, with the demo agent

  --config <file.json>   another deployment config, in the format of cdk.json's context.hitl (env HITL_CONFIG_FILE)
  --state-dir <dir>      state: tables, executions, schedules, emails, keys (env HITL_STATE_DIR, default .hitl)
  --no-demo              do not run the demo agent (env HITL_DEMO=0; \`npm run local\` does this)
  --fsync                acknowledge changes only once they are on disk, not just written (env HITL_LOCAL_FSYNC=1):
                         survives power loss as well as a killed process, at a cost in latency
  --cdk-out <dir>        where to synthesize the CDK app (env HITL_CDK_OUT, default <state-dir>/cdk.out)
  --add-resources <file> a JSON object of CloudFormation resources to add to the synthesized template, e.g. an
                         event rule the CDK app does not have yet (env HITL_ADD_RESOURCES)
  --forward-events <url|file.jsonl>
                         also send every hitl.decision event to this URL (POST, the event as JSON) or append it to
                         this file; repeatable (env HITL_FORWARD_EVENTS, comma-separated)
  --verbose              log every function invocation and the functions' INFO logs
${Object.entries(PORT_FLAGS)
  .map(([key, p]) => `${`  --${p.flag} <port>`.padEnd(24)} env ${p.env}, default ${DEFAULT_PORTS[key as keyof Ports]}`)
  .join('\n')}
`;

function port(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number (0-65535), got "${value}"`);
  return n;
}

/** A path as short as it can be: relative to the working directory when inside it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
}

function eventRulesNote(stack: LocalStack): string {
  const rules = stack.resources.eventRules.length;
  return `${rules} event rule${rules === 1 ? '' : 's'}; Step Functions status changes on the default bus`;
}

function banner(stack: LocalStack): string {
  const state = shown(stack.stateDir);
  const e = stack.endpoints;
  const rows = [
    ['Mail viewer', e.mailViewer, 'review emails land here; their links open the review page'],
    ['Review links', e.respond, 'the respond function behind a local HTTP API'],
    ['Step Functions', e.sfn, stack.stateMachineArn],
    ['Scheduler', e.scheduler, `schedule group ${stack.scheduleGroup ?? 'default'}`],
    ['DynamoDB', e.dynamodb, `${stack.tables.requests}, ${stack.tables.decisions}`],
    ['Secrets Manager', e.secretsManager, `signing keys in ${shown(stack.signingKeyFile)}${stack.webhookSecretFile ? '; webhook secret: npx hitl webhook-secret' : ''}`],
    ['EventBridge', e.events, eventRulesNote(stack)],
    ...(stack.inApp ? [['In-app API', `${stack.inApp.url}/v1/`, 'JWT authorizer; a token: npx hitl token --user <id>']] : []),
    ...(e.slack ? [['Slack (stand-in)', e.slack, `records chat.postMessage/update, views.open: GET /calls; app secret in ${shown(`${stack.stateDir}/slack.json`)}`]] : []),
  ];
  return [
    '',
    `hitl local stack is up (state in ${state}/)`,
    '',
    ...rows.map(([name, url, note]) => `  ${name!.padEnd(16)} ${url!.padEnd(26)} ${note}`),
    '',
    `  Endpoints for scripts and SDKs: ${state}/local.json     shell: eval "$(npx hitl env)"`,
    `  Ask for a review:  npx hitl request --agent my-agent --action refund --args '{"order_id":"O-1"}' --reason "why" --risk financial --wait`,
    `  awscli:            aws stepfunctions list-executions --endpoint-url ${e.sfn} --state-machine-arn ${stack.stateMachineArn}`,
    '',
    `Ctrl-C stops everything; tables, executions, schedules, emails and events are kept for the next start${stack.fsync ? ' (each change synced to disk before it is acknowledged)' : ''}.`,
    '',
  ].join('\n');
}

/** Validate a config file before synthesizing, so a bad field is reported by its path, at once. */
function checkedConfigFile(file: string): string {
  const path = resolve(file);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`Cannot read the hitl config file ${file}: ${(err as Error).message}`, { cause: err });
  }
  parseDeploymentConfig(raw, `hitl config file ${file}`);
  return path;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'state-dir': { type: 'string' },
      config: { type: 'string' },
      'no-demo': { type: 'boolean' },
      fsync: { type: 'boolean' },
      'cdk-out': { type: 'string' },
      'add-resources': { type: 'string' },
      'forward-events': { type: 'string', multiple: true },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      ...Object.fromEntries(Object.values(PORT_FLAGS).map((p) => [p.flag, { type: 'string' as const }])),
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const ports: Partial<Ports> = {};
  for (const [key, p] of Object.entries(PORT_FLAGS) as [keyof Ports, { flag: string; env: string }][]) {
    const chosen = port((values as Record<string, string | undefined>)[p.flag] ?? process.env[p.env], `--${p.flag}`);
    if (chosen !== undefined) ports[key] = chosen;
  }
  const demo = !values['no-demo'] && process.env.HITL_DEMO !== '0';
  const addResources = values['add-resources'] ?? (process.env.HITL_ADD_RESOURCES || undefined);
  const extraResources = addResources ? (JSON.parse(readFileSync(addResources, 'utf8')) as Template['Resources']) : undefined;
  const log = (line: string) => process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);

  const configFile = values.config ?? process.env.HITL_CONFIG_FILE;
  const context = configFile ? { [CONFIG_FILE_CONTEXT_KEY]: checkedConfigFile(configFile) } : undefined;

  const forwardSpecs = values['forward-events'] ?? (process.env.HITL_FORWARD_EVENTS ? process.env.HITL_FORWARD_EVENTS.split(',') : []);
  const forwardEvents = forwardSpecs.map(parseForward);

  log(`starting the local stack${configFile ? ` with ${configFile}` : ''}…`);
  const stack = await startLocalStack({
    context,
    stateDir: values['state-dir'] ?? process.env.HITL_STATE_DIR ?? DEFAULT_STATE_DIR,
    cdkOutDir: values['cdk-out'] ?? (process.env.HITL_CDK_OUT || undefined),
    fsync: values.fsync ?? process.env.HITL_LOCAL_FSYNC === '1',
    amendTemplate: extraResources && ((template) => Object.assign(template.Resources, extraResources)),
    ports,
    log,
    logInvocations: values.verbose,
    forwardEvents,
    functionLogLevel: values.verbose ? 'INFO' : 'WARN',
  });
  process.stdout.write(banner(stack));

  const stopDemo = new AbortController();
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      process.stdout.write('stopping anyway\n');
      process.exit(1);
    }
    stopping = true;
    log(`${signal}: stopping…`);
    stopDemo.abort();
    await stack.stop();
    log('stopped; state kept for the next start');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  if (demo) {
    runDemoAgent({ sfn: stack.clients.sfn, stateMachineArn: stack.stateMachineArn, mailViewerUrl: stack.endpoints.mailViewer, print: log, signal: stopDemo.signal }).catch(
      (err: unknown) => log(`demo agent failed: ${err instanceof Error ? err.message : String(err)}`),
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}\n`);
  process.exit(1);
});
