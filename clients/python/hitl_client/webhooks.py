"""Verifying a Decision webhook from hitl: the Standard Webhooks scheme (https://www.standardwebhooks.com).

``webhook-signature`` holds one or more ``v1,<base64 HMAC-SHA256>`` over ``<webhook-id>.<webhook-timestamp>.<body>``,
keyed with the base64 secret (``whsec_`` prefix optional). Pass the raw body bytes as received. Receivers should
deduplicate by ``webhook-id`` (the request id): a delivery may repeat.
"""
import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import Any, Dict, Mapping, Optional, Union

DEFAULT_TOLERANCE_SECONDS = 300


class WebhookVerificationError(Exception):
    """The delivery is not signed with this secret, lacks a header, or is too old (or from the future)."""


def _header(headers: Mapping[str, Any], name: str) -> Optional[str]:
    getter = getattr(headers, "get", None)
    value = getter(name) if getter else None
    if value is None:
        for key in headers:
            if str(key).lower() == name:
                value = headers[key]
                break
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return None if value is None else str(value)


def _key(secret: str) -> bytes:
    encoded = secret.strip()
    if encoded.startswith("whsec_"):
        encoded = encoded[len("whsec_"):]
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as err:
        raise WebhookVerificationError("the webhook secret is not base64") from err
    if not key:
        raise WebhookVerificationError("the webhook secret is empty")
    return key


def verify_webhook(
    secret: str,
    headers: Mapping[str, Any],
    body: Union[bytes, str],
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: Optional[float] = None,
) -> Dict[str, Any]:
    """Check a delivery's signature and timestamp; return its Decision (a dict) or raise WebhookVerificationError.

    ``headers``: any mapping (case-insensitive lookup); ``body``: the raw request body.
    """
    msg_id = _header(headers, "webhook-id")
    timestamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    if not msg_id or not timestamp or not signatures:
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature header")
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise WebhookVerificationError("webhook-timestamp is not a number of seconds")
    current = int(time.time() if now is None else now)
    if abs(current - int(timestamp)) > tolerance_seconds:
        raise WebhookVerificationError(
            f"webhook-timestamp is more than {tolerance_seconds} s from now: a stale or replayed delivery"
        )
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    signed = msg_id.encode("utf-8") + b"." + timestamp.encode("utf-8") + b"." + raw
    expected = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    for entry in signatures.split(" "):
        version, _, signature = entry.partition(",")
        if version != "v1" or not signature:
            continue
        try:
            given = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            continue
        if hmac.compare_digest(given, expected):
            break
    else:
        raise WebhookVerificationError("no webhook-signature matches: not signed with this secret, or the body was changed")
    try:
        decision = json.loads(raw.decode("utf-8"))
    except ValueError as err:
        raise WebhookVerificationError("the signed body is not JSON") from err
    if not isinstance(decision, dict) or not isinstance(decision.get("requestId"), str) or not isinstance(decision.get("outcome"), str):
        raise WebhookVerificationError("the signed body is not a hitl Decision")
    return decision
