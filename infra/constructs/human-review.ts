/**
 * HumanReview: a step of your own state machine that asks a person, by running the hitl review state
 * machine as a nested execution (`startExecution.sync:2`) and waiting for its Decision. Each step gets its
 * own request id: its idempotency key is the parent execution's name and the step's id, so a redriven
 * parent gets the same Decision and two steps never share one.
 *
 *   const review = new HumanReview(this, 'ApproveRefund', { reviewStateMachine, request: { kind: 'approval', … } });
 *   definition = prepare.next(review).next(new sfn.Choice(this, 'Approved?').when(review.approved(), refund).otherwise(tell));
 */
import { Stack, Token, type Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

const KINDS = ['approval', 'disambiguation', 'verification', 'escalation', 'correction'];

export interface HumanReviewProps {
  /** The hitl review state machine: `HitlStack.workflow.stateMachine`, or `sfn.StateMachine.fromStateMachineArn` of a deployed one. */
  readonly reviewStateMachine: sfn.IStateMachine;
  /**
   * The ReviewRequest (docs/schemas/review-request.schema.json); values may be JSONPath (`sfn.JsonPath.stringAt('$.orderId')`).
   * Without an `idempotencyKey`, the step sets `<parent execution name>:<step id>`.
   */
  readonly request: Record<string, unknown>;
  /**
   * Where the result goes in the state: `{ decision: Decision, executionArn }`.
   * @default '$.reviews.<id>'
   */
  readonly resultPath?: string;
  /**
   * Fail the step (States.Timeout) if the review takes longer; hitl's own time box and fallback decide first.
   * @default - no limit beyond the review state machine's backstop
   */
  readonly taskTimeout?: Duration;
}

export class HumanReview extends sfn.StateMachineFragment {
  readonly startState: sfn.State;
  readonly endStates: sfn.INextable[];
  /** The JSONPath of the Decision in the state after this step, e.g. `$.reviews.ApproveRefund.decision`. */
  readonly decisionPath: string;
  readonly task: tasks.StepFunctionsStartExecution;
  /** The key given in the request when it is a fixed string; two steps must not share one. */
  private readonly fixedKey?: string;

  constructor(scope: Construct, id: string, props: HumanReviewProps) {
    super(scope, id);
    if (!/^[A-Za-z0-9_-]{1,40}$/.test(id)) {
      throw new Error(`HumanReview "${id}": the id becomes part of the request's idempotency key; use 1-40 letters, digits, _ or -, e.g. "ApproveRefund"`);
    }
    const kind = props.request.kind;
    if (typeof kind !== 'string' || !KINDS.includes(kind)) {
      throw new Error(`HumanReview ${id}: request.kind is ${JSON.stringify(kind)}; it must be one of ${KINDS.join(', ')} (see docs/schemas/review-request.schema.json)`);
    }
    for (const field of ['agent', 'reason', 'risk', 'reviewerGroup']) {
      if (props.request[field] === undefined) throw new Error(`HumanReview ${id}: request.${field} is missing; a ReviewRequest needs kind, agent, reason, risk and reviewerGroup`);
    }
    const given = props.request.idempotencyKey;
    if (typeof given === 'string' && !Token.isUnresolved(given) && !given.startsWith('$')) {
      const twin = Stack.of(this)
        .node.findAll()
        .find((c): c is HumanReview => c instanceof HumanReview && c !== this && c.fixedKey === given);
      if (twin) {
        throw new Error(`HumanReview ${id}: request.idempotencyKey "${given}" is also the key of ${twin.node.id}; both steps would get one request and one Decision. Leave the key out (each step gets <execution name>:<step id>) or make it differ per step`);
      }
      this.fixedKey = given;
    }
    const resultPath = props.resultPath ?? `$.reviews.${id}`;
    this.decisionPath = `${resultPath}.decision`;
    const request = { ...props.request, idempotencyKey: props.request.idempotencyKey ?? sfn.JsonPath.format(`{}:${id}`, sfn.JsonPath.executionName) };
    this.task = new tasks.StepFunctionsStartExecution(this, 'Review', {
      stateMachine: props.reviewStateMachine,
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      input: sfn.TaskInput.fromObject(request),
      // The review state machine accepts exactly a ReviewRequest: no parent-execution field is added.
      associateWithParent: false,
      resultSelector: { 'decision.$': '$.Output', 'executionArn.$': '$.ExecutionArn' },
      resultPath,
      taskTimeout: props.taskTimeout ? sfn.Timeout.duration(props.taskTimeout) : undefined,
      comment: `hitl: ask a person (${kind}) and wait for the Decision`,
      stateName: id,
    });
    this.startState = this.task;
    this.endStates = [this.task];
  }

  /** True when the person (or a policy) let it go ahead: approved or modified. */
  approved(): sfn.Condition {
    return sfn.Condition.or(sfn.Condition.stringEquals(`${this.decisionPath}.outcome`, 'approved'), sfn.Condition.stringEquals(`${this.decisionPath}.outcome`, 'modified'));
  }
}
