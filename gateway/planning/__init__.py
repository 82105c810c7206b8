"""Operation to query plan: the Fetch / Sequence / Parallel / Flatten / Condition tree."""

from .conditions import resolve_conditions
from .errors import PlanningError
from .nodes import (
    ConditionNode,
    FetchNode,
    FlattenNode,
    ParallelNode,
    PlanNode,
    QueryPlan,
    SequenceNode,
    SubscriptionNode,
    print_plan,
)
from .planner import Planner, build_query_plan, select_operation

__all__ = [
    "ConditionNode",
    "FetchNode",
    "FlattenNode",
    "ParallelNode",
    "PlanNode",
    "Planner",
    "PlanningError",
    "QueryPlan",
    "SequenceNode",
    "SubscriptionNode",
    "build_query_plan",
    "print_plan",
    "resolve_conditions",
    "select_operation",
]
