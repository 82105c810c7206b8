"""Supergraph SDL (Apollo's format) to the API schema plus routing metadata."""

from .errors import SupergraphError
from .loader import load_supergraph, parse_field_set
from .model import FieldMeta, JoinField, JoinType, TypeMeta
from .schema import Supergraph

__all__ = [
    "FieldMeta",
    "JoinField",
    "JoinType",
    "Supergraph",
    "SupergraphError",
    "TypeMeta",
    "load_supergraph",
    "parse_field_set",
]
