/**
 * The example's agent, as a Lambda handler: a stand-in for a model that reads a support ticket. `plan`
 * proposes a refund and drafts the email to the customer; `refund` carries out what the people approved (the
 * amount a reviewer set, the email as a reviewer edited it) and says what it did. Deterministic, so the
 * example runs the same on AWS, on the local stack and in tests.
 */
export interface Ticket {
  ticketId: string;
  orderId: string;
  amountUsd: number;
  customerEmail: string;
  complaint: string;
}

export interface Plan {
  refund: { order_id: string; amount_usd: number };
  reason: string;
  confidence: number;
  email: { channel: 'email'; title: string; body: string; recipients: string[] };
}

interface Decision {
  outcome: string;
  approvedArgs?: Record<string, unknown>;
  editedDraft?: { title?: string; body: string };
}

export type AgentEvent =
  | { step: 'plan'; ticket: Ticket }
  | { step: 'refund'; plan: Plan; reviews: { ApproveRefund: { decision: Decision }; VerifyEmail: { decision: Decision } } };

export async function handler(event: AgentEvent): Promise<unknown> {
  if (event.step === 'plan') return plan(event.ticket);
  if (event.step === 'refund') return refund(event);
  throw Object.assign(new Error(`Unknown step ${JSON.stringify((event as { step?: unknown }).step)}; use "plan" or "refund"`), { name: 'InvalidStepError' });
}

function plan(ticket: Ticket): Plan {
  return {
    refund: { order_id: ticket.orderId, amount_usd: ticket.amountUsd },
    reason: `Ticket ${ticket.ticketId}: ${ticket.complaint}`,
    confidence: 0.82,
    email: {
      channel: 'email',
      title: `Your refund for order ${ticket.orderId}`,
      body: `Hello,\n\nwe are sorry about your order ${ticket.orderId}. We have issued a refund of $${ticket.amountUsd}; it reaches your card within five working days.\n\nThe support team`,
      recipients: [ticket.customerEmail],
    },
  };
}

function refund(event: Extract<AgentEvent, { step: 'refund' }>) {
  const approval = event.reviews.ApproveRefund.decision;
  const check = event.reviews.VerifyEmail.decision;
  // A reviewer may have lowered the amount (outcome "modified"): refund what was approved, never the proposal.
  const args = (approval.approvedArgs ?? event.plan.refund) as Plan['refund'];
  const email = check.editedDraft ?? event.plan.email;
  return {
    refundId: `rf-${args.order_id}`,
    orderId: args.order_id,
    amountUsd: args.amount_usd,
    emailSent: { to: event.plan.email.recipients, title: email.title ?? event.plan.email.title, body: email.body },
  };
}
