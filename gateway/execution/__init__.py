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
    OperationParts,
    PreparedOperation,
    SupergraphView,
    coerce_variables,
    compile_operation,
    select_operation,
    split_operation,
)
from gateway.execution.shaping import ShapingProgram
from gateway.execution.trace import FetchTrace

__all__ = [
    "Executor",
    "FetchTrace",
    "OperationParts",
    "PreparedOperation",
    "Projector",
    "ShapingProgram",
    "SupergraphView",
    "TypeMatcher",
    "apply_rewrites",
    "coerce_variables",
    "compile_operation",
    "collect_at_path",
    "collect_entities",
    "deep_merge",
    "merge_entities",
    "project_representation",
    "select_operation",
    "split_operation",
]
