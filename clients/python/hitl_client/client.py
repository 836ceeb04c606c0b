"""Ask a human, get a Decision: ``review()`` waits for one, ``start()`` returns a handle to wait on, check
or cancel, ``gate()`` and ``@require_approval`` wrap a tool so each call asks first. A "no" is a Decision,
never an exception."""
import functools
import hashlib
import inspect
import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Union

import boto3

from .contract import Decision, RequestLike


class HitlConfigError(Exception):
    """No state machine could be found, or the local endpoints file is not one."""


class ReviewFailedError(Exception):
    """The execution failed: an invalid request (InvalidRequestError, DuplicateRequestError) or an internal error."""

    def __init__(self, execution_arn: str, error: Optional[str], cause: Optional[str]):
        super().__init__(f"Review {execution_arn} failed: {error or 'unknown error'}{': ' + cause if cause else ''}")
        self.execution_arn = execution_arn
        self.error = error
        self.cause = cause


class ReviewWaitTimeout(Exception):
    """wait() gave up; the review goes on (wait again or cancel)."""


def request_id_of(request: RequestLike, execution_arn: str) -> str:
    """The id hitl gives a request: from agent and idempotency key, else from the execution."""
    key = request.get("idempotencyKey")
    source = execution_arn if key is None else f"{request['agent']}\n{key}"
    return "r" + hashlib.sha256(source.encode("utf-8")).hexdigest()[:24]


def _find_local_file(start: Path) -> Optional[Path]:
    for directory in [start, *start.parents]:
        candidate = directory / ".hitl" / "local.json"
        if candidate.exists():
            return candidate
    return None


def _iso(value: Any) -> str:
    when = value if isinstance(value, datetime) else datetime.now(timezone.utc)
    return when.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ReviewHandle:
    """A started review: ``wait()``, ``status()``, ``cancel()``."""

    def __init__(self, sfn: Any, execution_arn: str, request: RequestLike, poll: tuple):
        self._sfn = sfn
        self.execution_arn = execution_arn
        self.request = request
        self._poll = poll

    @property
    def request_id(self) -> str:
        return request_id_of(self.request, self.execution_arn)

    def status(self) -> str:
        return self._sfn.describe_execution(executionArn=self.execution_arn)["status"]

    def cancel(self, reason: str = "cancelled by the agent") -> None:
        """Stop the execution: hitl cancels its pending request, and wait() returns a cancelled Decision."""
        self._sfn.stop_execution(executionArn=self.execution_arn, error="Agent.Cancelled", cause=reason)

    def wait(self, timeout: Optional[float] = None) -> Decision:
        """Poll DescribeExecution (with backoff) until the execution ends; the Decision it ended with."""
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = self._poll[0]
        while True:
            out = self._sfn.describe_execution(executionArn=self.execution_arn)
            status = out["status"]
            if status == "SUCCEEDED":
                return json.loads(out["output"])
            if status == "ABORTED":
                requested, decided = _iso(out.get("startDate")), _iso(out.get("stopDate"))
                started, stopped = out.get("startDate"), out.get("stopDate")
                latency = int((stopped - started).total_seconds() * 1000) if started and stopped else 0
                return {
                    "requestId": self.request_id,
                    "kind": self.request["kind"],
                    "outcome": "cancelled",
                    "decidedBy": "execution:stopped",
                    "reason": out.get("cause") or out.get("error") or "the review execution was stopped",
                    "tier": 1,
                    "requestedAt": requested,
                    "decidedAt": decided,
                    "latencyMs": max(0, latency),
                }
            if status not in ("RUNNING", "PENDING_REDRIVE"):
                raise ReviewFailedError(self.execution_arn, out.get("error") or status, out.get("cause"))
            if deadline is not None and time.monotonic() + pause > deadline:
                raise ReviewWaitTimeout(f"No decision for {self.execution_arn} within {timeout} s")
            time.sleep(pause)
            pause = min(self._poll[1], pause * 1.5)


def refusal_text(action: str, decision: Decision) -> Optional[str]:
    """The tool-result text for a Decision that does not let the tool run; None when it may run."""
    policy = decision.get("policy")
    # Only a policy's decision names a policy; a person's names the rule that sent it to them.
    policy_text = f" (policy {policy['name']}: {policy['why']})" if policy and policy.get("name") else ""
    reason = f": {decision['reason']}" if decision.get("reason") else ""
    outcome = decision["outcome"]
    if outcome in ("approved", "modified"):
        return None
    if outcome == "denied":
        return f"Not done: {action} was denied by {decision['decidedBy']}{reason}{policy_text}. Do not retry it unchanged."
    if outcome == "expired":
        return f"Not done: nobody approved {action} in time{reason}{policy_text}. Do not proceed without approval."
    if outcome == "cancelled":
        return f"Not done: the review of {action} was cancelled{reason}{policy_text}."
    return f"Not done: {action} ended as {outcome}{reason}{policy_text}."


class Hitl:
    """Client of one hitl deployment.

    Configuration, first match wins: ``Hitl(state_machine_arn=..., sfn=...)``; ``HITL_STATE_MACHINE_ARN`` with
    the usual AWS configuration; the local stack's endpoints file (``HITL_LOCAL_FILE`` or ``.hitl/local.json``
    in the working directory or above it).
    """

    def __init__(
        self,
        state_machine_arn: Optional[str] = None,
        sfn: Any = None,
        local_file: Union[str, Path, None, bool] = None,
        poll: tuple = (0.25, 5.0),
    ):
        arn = state_machine_arn or os.environ.get("HITL_STATE_MACHINE_ARN")
        self._poll = poll
        if arn and not local_file:
            self.state_machine_arn = arn
            self.sfn = sfn or boto3.client("stepfunctions")
            return
        path = None if local_file is False else (local_file or os.environ.get("HITL_LOCAL_FILE") or _find_local_file(Path.cwd()))
        if not path:
            raise HitlConfigError(
                "No hitl state machine: pass state_machine_arn, set HITL_STATE_MACHINE_ARN (the stack output "
                "StateMachineArn), or run the local stack (npm start) so .hitl/local.json exists"
            )
        local = json.loads(Path(path).read_text("utf-8"))
        if not local.get("stateMachineArn") or not local.get("endpoints", {}).get("sfn"):
            raise HitlConfigError(f"{path} is not a hitl local stack endpoints file (no stateMachineArn or endpoints.sfn)")
        self.state_machine_arn = arn or local["stateMachineArn"]
        self.sfn = sfn or boto3.client(
            "stepfunctions",
            region_name=local["region"],
            endpoint_url=local["endpoints"]["sfn"],
            aws_access_key_id=local["credentials"]["accessKeyId"],
            aws_secret_access_key=local["credentials"]["secretAccessKey"],
        )

    def start(self, request: RequestLike) -> ReviewHandle:
        for field in ("kind", "agent", "reason", "risk"):
            if field not in request:
                raise ValueError(f"ReviewRequest needs {field!r}")
        out = self.sfn.start_execution(stateMachineArn=self.state_machine_arn, input=json.dumps(request))
        return ReviewHandle(self.sfn, out["executionArn"], request, self._poll)

    def review(self, request: RequestLike, timeout: Optional[float] = None) -> Decision:
        """Start a review and wait for its Decision."""
        return self.start(request).wait(timeout=timeout)

    def gate(
        self,
        tool: Callable[..., Any],
        *,
        agent: str,
        reviewer_group: str,
        risk: Dict[str, Any],
        reason: Union[str, Callable[[Dict[str, Any]], str]],
        action: Optional[str] = None,
        context: Optional[str] = None,
        ttl_seconds: Optional[int] = None,
        fallback: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> Callable[..., Any]:
        """Wrap ``tool(**args)`` so each call asks first. Approved, it runs with the approved (maybe modified)
        args; denied, expired or cancelled, it returns a short text for the model. Pass ``tool_call_id=`` to
        the wrapped function: it is the idempotency key, so a restarted agent gets the same Decision."""
        name = action or getattr(tool, "__name__", "tool")

        @functools.wraps(tool)
        def gated(*positional: Any, tool_call_id: Optional[str] = None, **kwargs: Any) -> Any:
            args = dict(inspect.signature(tool).bind(*positional, **kwargs).arguments)
            request: Dict[str, Any] = {
                "kind": "approval",
                "agent": agent,
                "action": {"name": name, "args": args},
                "reason": reason(args) if callable(reason) else reason,
                "risk": risk,
                "reviewerGroup": reviewer_group,
            }
            for key, value in (("context", context), ("ttlSeconds", ttl_seconds), ("fallback", fallback), ("idempotencyKey", tool_call_id)):
                if value is not None:
                    request[key] = value
            decision = self.review(request, timeout=timeout)
            refusal = refusal_text(name, decision)
            if refusal is not None:
                return refusal
            return tool(**(decision.get("approvedArgs") or args))

        return gated


def require_approval(hitl: Optional[Hitl] = None, **rule: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator form of ``Hitl.gate``: ``@require_approval(agent=..., reviewer_group=..., risk=..., reason=...)``.
    Without ``hitl`` the client is built from the environment at the first call."""

    def decorate(tool: Callable[..., Any]) -> Callable[..., Any]:
        holder: Dict[str, Callable[..., Any]] = {}

        @functools.wraps(tool)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if "gated" not in holder:
                holder["gated"] = (hitl or Hitl()).gate(tool, **rule)
            return holder["gated"](*args, **kwargs)

        return wrapper

    return decorate
