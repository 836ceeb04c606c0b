/**
 * Decision webhooks without the network: which URLs admission lets through, which addresses a delivery may
 * reach, the signature (against the Standard Webhooks reference library and the client helpers), the retry
 * rules, and the stack's webhook resources.
 */
import { randomBytes } from 'node:crypto';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { verifyWebhook, WebhookVerificationError } from '../../clients/typescript/src/webhooks.ts';
import { InvalidRequestError } from '#shared/errors.ts';
import { admitRequest } from '#shared/review/admission.ts';
import { parseDeploymentConfig } from '#shared/schemas/config.ts';
import { isPrivateAddress } from '#shared/webhooks/addresses.ts';
import { deliverWebhook, type DeliverDeps } from '#shared/webhooks/deliver.ts';
import { signWebhook, webhookHeaders, webhookKey } from '#shared/webhooks/signature.ts';
import { webhookUrlIssue } from '#shared/webhooks/url.ts';
import { deliverySeconds } from '#infra/constructs/decision-webhooks.ts';
import { buildStack, logicalId, TEST_CONFIG } from '../support/synth.ts';

const allowed = { allowedHosts: ['agent.example.com', '127.0.0.1', 'localhost', '10.0.0.5', '[::1]'] };

describe('notify.url checks', () => {
  it.each([
    ['https://agent.example.com/hooks/hitl', undefined],
    ['https://AGENT.example.com:8443/hooks', undefined],
    ['http://127.0.0.1:9000/hooks', undefined],
    ['http://localhost:9000/hooks', undefined],
    ['http://[::1]:9000/hooks', undefined],
    ['https://10.0.0.5/hooks', undefined],
    // The URL parser's spelling of the host is what is compared.
    ['http://127.1:9000/hooks', undefined],
  ])('%s may be called', (url, issue) => {
    expect(webhookUrlIssue(url, allowed)).toBe(issue);
  });

  it.each([
    ['https://evil.example.com/x', /host "evil.example.com" is not in this deployment's webhooks.allowedHosts/],
    ['https://agent.example.com.evil.com/x', /not in this deployment's webhooks.allowedHosts/],
    ['http://agent.example.com/hooks', /use https/],
    ['http://10.0.0.5/hooks', /use https/],
    ['https://user:pw@agent.example.com/hooks', /user name or password/],
    ['https://169.254.169.254/latest/meta-data', /not in this deployment's webhooks.allowedHosts/],
    ['https://[::ffff:127.0.0.1]/hooks', /host "\[::ffff:7f00:1\]" is not in/],
  ])('%s is refused', (url, issue) => {
    expect(webhookUrlIssue(url, allowed)).toMatch(issue);
  });

  it('every URL is refused while webhooks are off', () => {
    expect(webhookUrlIssue('https://agent.example.com/hooks', { allowedHosts: [] })).toMatch(/webhooks are off/);
  });

  it('admission names notify.url; the schema refuses a URL that is not http(s)', () => {
    const config = parseDeploymentConfig({ ...TEST_CONFIG, webhooks: { allowedHosts: ['agent.example.com'] } });
    const request = {
      kind: 'approval',
      agent: 'billing-bot',
      action: { name: 'refund', args: { order_id: 'O-1' } },
      reason: 'duplicate charge',
      risk: { class: 'financial', reversible: false },
      reviewerGroup: 'finance',
    };
    expect(admitRequest({ ...request, notify: { url: 'https://agent.example.com/hooks' } }, config).request.notify).toEqual({ url: 'https://agent.example.com/hooks' });
    const refused = (notify: unknown) => {
      try {
        admitRequest({ ...request, notify }, config);
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidRequestError);
        return (err as InvalidRequestError).issues;
      }
      throw new Error('admitted');
    };
    expect(refused({ url: 'https://evil.example.com/hooks' })).toEqual([{ path: 'notify.url', message: expect.stringMatching(/evil.example.com/) as unknown }]);
    expect(refused({ url: 'file:///etc/passwd' })[0]).toMatchObject({ path: 'notify.url' });
    expect(refused({ url: 'https://agent.example.com', secret: 'x' })[0]).toMatchObject({ path: 'notify' });
  });

  it('the config refuses a host spelled with a scheme, a port or a path', () => {
    for (const host of ['https://agent.example.com', 'agent.example.com:443', 'agent.example.com/hooks', 'Agent.Example.com', '*.example.com']) {
      expect(() => parseDeploymentConfig({ ...TEST_CONFIG, webhooks: { allowedHosts: [host] } }), host).toThrow(/webhooks\.allowedHosts\.0/);
    }
  });
});

describe('addresses a delivery may reach', () => {
  it.each(['10.1.2.3', '172.16.0.1', '192.168.1.1', '127.0.0.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1', '::ffff:a9fe:a9fe', '[::1]'])('%s is private or reserved', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });
  it.each(['93.184.216.34', '1.1.1.1', '2606:4700:4700::1111', 'agent.example.com'])('%s is not', (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });
});

describe('signatures', () => {
  // The example in the Standard Webhooks specification and its reference libraries' tests.
  it('match the specification example', () => {
    const key = webhookKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    expect(signWebhook(key, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  const secret = randomBytes(36).toString('base64');
  const decision = {
    requestId: 'r0123456789abcdef01234567',
    kind: 'approval',
    outcome: 'approved',
    decidedBy: 'lead@example.com',
    tier: 1,
    requestedAt: '2026-12-01T10:00:00.000Z',
    decidedAt: '2026-12-01T10:05:00.000Z',
    latencyMs: 300000,
    agent: 'billing-bot',
    actionType: 'approval#refund',
    executionArn: 'arn:aws:states:us-east-1:123456789012:execution:hitl-review:e1',
    status: 'DECIDED',
  };
  const body = JSON.stringify(decision);
  const now = new Date('2026-12-01T10:05:01Z');
  const headers = webhookHeaders(webhookKey(secret), decision.requestId, body, now);

  it('verify with the reference library, with or without the whsec_ prefix', () => {
    for (const s of [secret, `whsec_${secret}`]) {
      const wh = new Webhook(s);
      // The library checks the timestamp against the real clock: sign one now.
      const fresh = webhookHeaders(webhookKey(secret), decision.requestId, body, new Date());
      expect(wh.verify(body, fresh)).toEqual(decision);
    }
  });

  it('the client helper accepts a real delivery and refuses a forged or stale one', () => {
    expect(verifyWebhook(secret, headers, body, { now: () => now })).toMatchObject({ requestId: decision.requestId, outcome: 'approved', status: 'DECIDED' });
    expect(verifyWebhook(`whsec_${secret}`, new Headers(headers), Buffer.from(body), { now: () => now }).outcome).toBe('approved');
    const forged = body.replace('approved', 'denied');
    expect(() => verifyWebhook(secret, headers, forged, { now: () => now })).toThrow(WebhookVerificationError);
    expect(() => verifyWebhook(randomBytes(36).toString('base64'), headers, body, { now: () => now })).toThrow(/No webhook-signature matches/);
    expect(() => verifyWebhook(secret, headers, body, { now: () => new Date(now.getTime() + 301_000) })).toThrow(/stale or replayed/);
    expect(verifyWebhook(secret, headers, body, { now: () => new Date(now.getTime() + 301_000), toleranceSeconds: 600 }).outcome).toBe('approved');
    expect(() => verifyWebhook(secret, { ...headers, 'webhook-signature': undefined }, body, { now: () => now })).toThrow(/Missing/);
  });
});

describe('delivery attempts', () => {
  function fakeDeps(statuses: (number | Error)[]): DeliverDeps & { calls: Record<string, string>[]; pauses: number[] } {
    const calls: Record<string, string>[] = [];
    const pauses: number[] = [];
    return {
      calls,
      pauses,
      post: (_url, headers) => {
        calls.push(headers);
        const next = statuses.shift();
        if (next === undefined) throw new Error('no more answers');
        return next instanceof Error ? Promise.reject(next) : Promise.resolve({ status: next });
      },
      now: () => new Date(),
      sleep: (ms) => {
        pauses.push(ms);
        return Promise.resolve();
      },
      log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
      random: () => 0.5,
    };
  }
  const key = webhookKey(randomBytes(36).toString('base64'));
  const message = { url: 'https://agent.example.com/hooks', id: 'r1', body: '{}' };
  const options = { maxAttempts: 5, timeoutMs: 1000 };

  it('retries 5xx, 408, 429 and errors with growing pauses, under one webhook-id', async () => {
    const deps = fakeDeps([500, 408, 429, Object.assign(new Error('timed out'), { name: 'WebhookTimeoutError' }), 204]);
    expect(await deliverWebhook(deps, key, message, options)).toEqual({ delivered: true, attempts: 5, status: 204 });
    expect(deps.pauses).toEqual([1000, 2000, 4000, 8000]);
    expect(new Set(deps.calls.map((h) => h['webhook-id']))).toEqual(new Set(['r1']));
  });

  it('stops at once on another 4xx or a redirect', async () => {
    for (const status of [400, 401, 404, 410, 301, 302]) {
      const deps = fakeDeps([status, 200]);
      expect(await deliverWebhook(deps, key, message, options)).toMatchObject({ delivered: false, attempts: 1, status });
    }
  });

  it('gives up after maxAttempts with the last reason', async () => {
    const deps = fakeDeps([503, 503, 503]);
    expect(await deliverWebhook(deps, key, message, { ...options, maxAttempts: 3 })).toEqual({ delivered: false, attempts: 3, status: 503, reason: 'answered 503, after 3 attempt(s)' });
  });

  it('never puts the URL in a failure reason (it may carry the agent’s token)', async () => {
    const secretUrl = 'https://agent.example.com/hooks/tok_sEcReT';
    const deps = fakeDeps([new Error(`connect failed to ${secretUrl}`)]);
    const outcome = await deliverWebhook(deps, key, { ...message, url: secretUrl }, { ...options, maxAttempts: 1 });
    expect(JSON.stringify(outcome)).not.toContain('tok_sEcReT');
  });
});

describe('stack', () => {
  it('has no webhook resources while webhooks are off', () => {
    const { stack } = buildStack();
    expect(stack.webhooks).toBeUndefined();
    expect(JSON.stringify(Template.fromStack(stack).toJSON())).not.toContain('functions/webhook.ts');
  });

  it('sends hitl.decision events to the webhook function, which reads its own secret and the tables only', () => {
    const { stack } = buildStack({ config: { ...TEST_CONFIG, webhooks: { allowedHosts: ['agent.example.com'], maxAttempts: 3, timeoutSeconds: 5 } } });
    const template = Template.fromStack(stack);
    const fn = logicalId(template, 'AWS::Lambda::Function', 'WebhooksHandler');
    const secret = logicalId(template, 'AWS::SecretsManager::Secret', 'WebhooksSigningSecret');
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: logicalId(template, 'AWS::Events::EventBus', 'DecisionBus') },
      EventPattern: { source: ['hitl'], 'detail-type': ['hitl.decision'] },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fn, 'Arn'] }, DeadLetterConfig: Match.anyValue(), RetryPolicy: Match.anyValue() })],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: deliverySeconds({ maxAttempts: 3, timeoutSeconds: 5 }) + 15,
      Environment: { Variables: Match.objectLike({ HITL_WEBHOOK_SECRET_ID: { Ref: secret } }) },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2, DestinationConfig: { OnFailure: Match.anyValue() } });
    const role = template.toJSON().Resources[fn].Properties.Role['Fn::GetAtt'][0] as string;
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p.Properties.Roles).includes(role));
    const actions = policies.flatMap((p) => (p.Properties.PolicyDocument.Statement as { Action: string | string[] }[]).flatMap((s) => s.Action)).sort();
    expect(actions).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'logs:CreateLogStream', 'logs:PutLogEvents', 'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'].sort());
    // The link-signing secret is another one, which the webhook function cannot read.
    expect(JSON.stringify(policies)).not.toContain(logicalId(template, 'AWS::SecretsManager::Secret', 'SigningSecret'));
  });
});
