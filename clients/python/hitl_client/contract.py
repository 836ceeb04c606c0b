"""The hitl contracts as TypedDicts: ReviewRequest (the state machine input) and Decision (its output).
They mirror docs/schemas/review-request.schema.json and docs/schemas/decision.schema.json."""
from typing import Any, Dict, List, Literal, TypedDict, Union

Kind = Literal["approval", "disambiguation", "verification", "escalation", "correction"]
Outcome = Literal["approved", "denied", "modified", "answered", "resolved", "corrected", "expired", "cancelled"]
Fallback = Literal["deny", "approve", "escalate", "hold"]
Channel = Literal["email", "slack", "inbox", "in-app", "policy"]
JsonValue = Any


class Risk(TypedDict):
    # "class" is a keyword: build it as {"class": "financial", "reversible": False}
    reversible: bool


class Action(TypedDict):
    name: str
    args: Dict[str, JsonValue]


class PlanStep(TypedDict):
    current: int
    total: int


class _RequestRequired(TypedDict):
    kind: Kind
    agent: str
    reason: str
    risk: Dict[str, Any]


class ReviewRequest(_RequestRequired, total=False):
    reviewerGroup: str
    # In-app answers: {"id": <the app user's JWT sub>, "email"?: ...} instead of a reviewer group.
    respondent: Dict[str, str]
    requestedBy: str
    planStep: PlanStep
    context: str
    confidence: float
    ttlSeconds: int
    fallback: Fallback
    idempotencyKey: str
    # {"url": "https://..."}: where the Decision is POSTed, signed (verify it with verify_webhook)
    notify: Dict[str, str]
    action: Action
    question: str
    options: List[Dict[str, str]]
    draft: Dict[str, str]
    task: Dict[str, str]
    output: Dict[str, str]
    issue: str


class _PolicyRequired(TypedDict):
    why: str


class Policy(_PolicyRequired, total=False):
    # Set only when a policy rather than a person decided.
    name: str
    # The deployment's policy rule that applied.
    rule: str


class _DecisionRequired(TypedDict):
    requestId: str
    kind: Kind
    outcome: Outcome
    decidedBy: str
    tier: int
    requestedAt: str
    decidedAt: str
    latencyMs: int


class Decision(_DecisionRequired, total=False):
    # email, slack, inbox, in-app or policy.
    channel: str
    policy: Policy
    approvers: List[str]
    votes: List[Dict[str, Any]]
    reason: str
    comment: str
    proposedArgs: Dict[str, JsonValue]
    approvedArgs: Dict[str, JsonValue]
    chosenOption: Dict[str, str]
    editedDraft: Dict[str, str]
    result: str
    correctedOutput: str
    correctionCategory: str
    # How the decision was made: the channel the person used, or "policy". Missing on older decisions.
    channel: Channel


DECISION_FIELDS = set(_DecisionRequired.__annotations__) | set(Decision.__annotations__)
REQUEST_FIELDS = set(_RequestRequired.__annotations__) | set(ReviewRequest.__annotations__)
RequestLike = Union[ReviewRequest, Dict[str, Any]]
