/** `.hitl/local.json`: where a running local stack can be found, for the CLI, scripts and real AWS clients. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile, writeJsonFile } from './json-file.ts';

export const ENDPOINTS_FILE = 'local.json';

/** Base URLs of the local stand-ins. */
export interface Endpoints {
  respond: string;
  mailViewer: string;
  ses: string;
  sfn: string;
  scheduler: string;
  dynamodb: string;
  secretsManager: string;
  events: string;
  /** The Slack Web API stand-in (its `/api/` base), when the config enables Slack. */
  slack?: string;
}

export interface EndpointsFile {
  region: string;
  accountId: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  endpoints: Endpoints;
  stackName: string;
  stateMachineArn: string;
  stateMachines: Record<string, string>;
  tables: { requests: string; decisions: string };
  tableNames: Record<string, string>;
  functions: Record<string, { arn: string; handler: string }>;
  scheduleGroup?: string;
  signingSecretId?: string;
  /** The decision webhooks' signing secret (`hitl webhook-secret` prints it); absent when webhooks are off. */
  webhookSecretId?: string;
  reviewerGroups: string[];
  /**
   * In-app answers, when the config enables them: the in-app API (served on the respond port), the issuer
   * and audiences its emulated JWT authorizer accepts, and the local issuer's key pair (`hitl token`).
   */
  inApp?: { url: string; issuer: string; audience: string[]; keyFile: string; jwks: unknown };
  /** The deployment config the functions run with (their HITL_CONFIG), for the analytics commands. */
  config?: unknown;
  /** AWS_* variables that point SDKs and CLIs at the stack. */
  env: Record<string, string>;
  pid: number;
  startedAt: string;
}

export class NoLocalStackError extends Error {
  constructor(stateDir: string) {
    super(`No local stack found: ${join(stateDir, ENDPOINTS_FILE)} does not exist. Start one with \`npm start\`, or use AWS: --state-machine-arn for request/status/list, --requests-table and --decisions-table for report/export.`);
    this.name = 'NoLocalStackError';
  }
}

export function writeEndpointsFile(stateDir: string, data: EndpointsFile): void {
  writeJsonFile(join(stateDir, ENDPOINTS_FILE), data);
}

export function readEndpointsFile(stateDir: string): EndpointsFile {
  const path = join(stateDir, ENDPOINTS_FILE);
  if (!existsSync(path)) throw new NoLocalStackError(stateDir);
  return readJsonFile<EndpointsFile>(path, undefined as never);
}
