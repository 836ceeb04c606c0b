"""hitl client: ask a person before an AI agent acts, and get a Decision back."""
from .client import (
    Hitl,
    HitlConfigError,
    ReviewFailedError,
    ReviewHandle,
    ReviewWaitTimeout,
    refusal_text,
    request_id_of,
    require_approval,
)
from .contract import Decision, ReviewRequest
from .webhooks import WebhookVerificationError, verify_webhook

__all__ = [
    "Decision",
    "Hitl",
    "HitlConfigError",
    "ReviewFailedError",
    "ReviewHandle",
    "ReviewRequest",
    "ReviewWaitTimeout",
    "refusal_text",
    "request_id_of",
    "require_approval",
    "verify_webhook",
    "WebhookVerificationError",
]
