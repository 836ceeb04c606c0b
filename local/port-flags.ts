/** The command-line flag and environment variable that set each port of the local stack. */
import type { Ports } from './stack.ts';

export const PORT_FLAGS: Record<keyof Ports, { flag: string; env: string }> = {
  respond: { flag: 'port-respond', env: 'HITL_PORT_RESPOND' },
  ses: { flag: 'port-ses', env: 'HITL_PORT_SES' },
  sfn: { flag: 'port-sfn', env: 'HITL_PORT_SFN' },
  scheduler: { flag: 'port-scheduler', env: 'HITL_PORT_SCHEDULER' },
  dynamodb: { flag: 'port-dynamodb', env: 'HITL_PORT_DYNAMODB' },
  secretsManager: { flag: 'port-secrets', env: 'HITL_PORT_SECRETS' },
  events: { flag: 'port-events', env: 'HITL_PORT_EVENTS' },
  slack: { flag: 'port-slack', env: 'HITL_PORT_SLACK' },
};
