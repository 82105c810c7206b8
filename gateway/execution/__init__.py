"""Execution: walk a QueryPlan against subgraphs, merge their answers, shape the client's response."""

from gateway.execution.entities import (
    Projector,
    TypeMatcher,
    apply_rewrites,
    collect_at_path,
    collect_entities,
    project_representation,
)
from gateway.execution.executor import Executor
from gateway.execution.merge import deep_merge, merge_entities
from gateway.execution.operation import (
    Planner,
    PreparedOperation,
    SupergraphView,
    coerce_variables,
    prepare_operation,
    select_operation,
)
from gateway.execution.shaping import ShapingProgram
from gateway.execution.trace import FetchTrace, fetch_nodes

__all__ = [
    "Executor",
    "FetchTrace",
    "Planner",
    "PreparedOperation",
    "Projector",
    "ShapingProgram",
    "SupergraphView",
    "TypeMatcher",
    "apply_rewrites",
    "coerce_variables",
    "collect_at_path",
    "collect_entities",
    "deep_merge",
    "fetch_nodes",
    "merge_entities",
    "prepare_operation",
    "project_representation",
    "select_operation",
]
