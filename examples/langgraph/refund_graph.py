"""LangGraph: a refund graph that pauses with ``interrupt()`` before it refunds; the runner asks hitl and
resumes the graph with the Decision, and the refund node runs with the arguments the reviewer approved."""
from typing import Optional, TypedDict

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from hitl_client import Decision, Hitl, refusal_text


class RefundState(TypedDict, total=False):
    order_id: str
    amount_usd: float
    decision: Decision
    result: str


def ask_human(state: RefundState) -> RefundState:
    # Pauses the graph here; the value given to Command(resume=...) is what interrupt() returns.
    args = {"order_id": state["order_id"], "amount_usd": state["amount_usd"]}
    decision = interrupt({"action": {"name": "refund", "args": args}, "reason": "the customer asked for a refund"})
    return {"decision": decision}


def refund(state: RefundState) -> RefundState:
    decision = state["decision"]
    refusal = refusal_text("refund", decision)
    if refusal is not None:
        return {"result": refusal}
    args = decision.get("approvedArgs") or {"order_id": state["order_id"], "amount_usd": state["amount_usd"]}
    return {"result": f"refunded {args['amount_usd']} USD on {args['order_id']}"}


def build_graph(checkpointer: Optional[BaseCheckpointSaver] = None):
    graph = StateGraph(RefundState)
    graph.add_node("ask_human", ask_human)
    graph.add_node("refund", refund)
    graph.add_edge(START, "ask_human")
    graph.add_edge("ask_human", "refund")
    graph.add_edge("refund", END)
    return graph.compile(checkpointer=checkpointer or InMemorySaver())


def run(graph, hitl: Hitl, thread_id: str, order_id: str, amount_usd: float) -> str:
    """Run until the graph pauses, ask hitl, resume with its Decision. The thread id is the idempotency key,
    so a runner restarted on the same thread gets the same Decision without asking twice."""
    config = {"configurable": {"thread_id": thread_id}}
    out = graph.invoke({"order_id": order_id, "amount_usd": amount_usd}, config)
    while "__interrupt__" in out:
        pause = out["__interrupt__"][0].value
        decision = hitl.review({
            "kind": "approval", "agent": "billing-bot", "reviewerGroup": "support-leads",
            "risk": {"class": "financial", "reversible": False}, "ttlSeconds": 300,
            "idempotencyKey": f"refund-{thread_id}", **pause,
        })
        out = graph.invoke(Command(resume=decision), config)
    return out["result"]
