/** A pending StoredRequest for rendering and notification tests: the demo refund unless another request is given. */
import { DEMO_REQUEST } from '#local/demo-agent.ts';
import { ReviewRequest, type ReviewRequestInput } from '#shared/schemas/review-request.ts';
import type { StoredRequest } from '#shared/store/model.ts';

/** A task token shaped like Step Functions' that tests assert never appears in output. */
export const TEST_TASK_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAW-task-token-that-must-never-leak';

export function storedRequest(input: ReviewRequestInput = DEMO_REQUEST, overrides: Partial<StoredRequest> = {}): StoredRequest {
  const request = ReviewRequest.parse(input);
  return {
    requestId: 'r0123456789abcdef01234567',
    status: 'PENDING',
    kind: request.kind,
    agent: request.agent,
    actionType: request.kind === 'approval' ? `approval#${request.action.name}` : request.kind,
    reviewerGroup: request.reviewerGroup ?? 'support-leads',
    fallback: request.fallback,
    request,
    tier: 1,
    round: 1,
    createdAt: '2025-06-03T13:00:00.000Z',
    expiresAt: '2025-06-03T13:30:00.000Z',
    ttlSeconds: 1800,
    executionArn: 'arn:aws:states:us-east-1:123456789012:execution:hitl:exec-1',
    taskToken: TEST_TASK_TOKEN,
    pendingGroup: request.reviewerGroup ?? 'support-leads',
    ...overrides,
  };
}
