"""Sigma rules to SQL over the judged accesses, with pySigma.

A small pySigma text backend emits a DuckDB ``WHERE`` condition (plain SQL: ``ILIKE``
for Sigma's case-insensitive matches, ``IS NULL``, ``IN``); a processing pipeline maps
common Sigma field names to the activity log's (``user`` is the agent, ``src_ip`` the
address...). Rules therefore speak the activity log's vocabulary plus the fields Vigile
derives for each access (``justification``, ``off_shift``, ``address_mismatch``...).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from sigma.conditions import ConditionAND, ConditionItem, ConditionNOT, ConditionOR
from sigma.conversion.base import TextQueryBackend
from sigma.conversion.state import ConversionState
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import FieldMappingTransformation
from sigma.types import SigmaCompareExpression, SigmaString

__all__ = ["FIELD_ALIASES", "RULE_FIELDS", "JudgedSqlBackend", "field_pipeline"]

#: The fields a rule may name: the columns of the judged accesses (judged.sql).
RULE_FIELDS: frozenset[str] = frozenset(
    {
        "id", "agent", "time_us", "session", "ip", "action", "customer", "ticket", "reason",
        "outcome", "query", "result_count", "justification", "sensitive", "off_shift",
        "new_for_agent", "new_for_team", "address_mismatch",
    }
)  # fmt: skip

#: Common Sigma taxonomy names and their activity-log field.
FIELD_ALIASES: dict[str, str] = {
    "user": "agent",
    "user.name": "agent",
    "src_ip": "ip",
    "source.ip": "ip",
    "event.action": "action",
    "event.outcome": "outcome",
    "session_id": "session",
}


def field_pipeline() -> ProcessingPipeline:
    """Maps Sigma taxonomy field names to the activity log's."""
    return ProcessingPipeline(
        name="vigile activity log fields",
        priority=20,
        items=[
            ProcessingItem(
                identifier="vigile_field_aliases",
                transformation=FieldMappingTransformation(dict(FIELD_ALIASES)),  # type: ignore[arg-type]
            )
        ],
    )


class JudgedSqlBackend(TextQueryBackend):
    """Sigma detection conditions as a SQL ``WHERE`` clause over ``judged``."""

    name: ClassVar[str] = "Vigile judged-accesses SQL"
    formats: ClassVar[dict[str, str]] = {"default": "SQL WHERE condition"}
    requires_pipeline: ClassVar[bool] = False

    precedence: ClassVar[tuple[type[ConditionItem], type[ConditionItem], type[ConditionItem]]] = (
        ConditionNOT, ConditionAND, ConditionOR,
    )  # fmt: skip
    group_expression: ClassVar[str] = "({expr})"
    token_separator: str = " "  # noqa: S105 - SQL tokens
    or_token: ClassVar[str] = "OR"  # noqa: S105 - SQL tokens
    and_token: ClassVar[str] = "AND"  # noqa: S105 - SQL tokens
    not_token: ClassVar[str] = "NOT"  # noqa: S105 - SQL tokens
    eq_token: ClassVar[str] = " = "  # noqa: S105 - SQL tokens

    field_quote: ClassVar[str] = '"'
    field_quote_pattern: ClassVar[re.Pattern[str]] = re.compile(r"^[a-z_][a-z0-9_]*$")
    field_quote_pattern_negation: ClassVar[bool] = True

    str_quote: ClassVar[str] = "'"
    escape_char: ClassVar[str] = "\\"
    wildcard_multi: ClassVar[str] = "%"
    wildcard_single: ClassVar[str] = "_"
    add_escaped: ClassVar[str] = "\\"
    bool_values: ClassVar[dict[bool, str | None]] = {True: "true", False: "false"}

    wildcard_match_expression: ClassVar[str] = "{field} ILIKE {value} ESCAPE '\\'"
    field_null_expression: ClassVar[str] = "{field} IS NULL"
    field_exists_expression: ClassVar[str] = "{field} IS NOT NULL"
    field_not_exists_expression: ClassVar[str] = "{field} IS NULL"
    compare_op_expression: ClassVar[str] = "{field} {operator} {value}"
    compare_operators: ClassVar[dict[Any, str]] = {
        SigmaCompareExpression.CompareOperators.LT: "<",
        SigmaCompareExpression.CompareOperators.LTE: "<=",
        SigmaCompareExpression.CompareOperators.GT: ">",
        SigmaCompareExpression.CompareOperators.GTE: ">=",
    }

    def convert_value_str(self, s: SigmaString, state: ConversionState) -> str:
        """A quoted SQL string: quotes doubled, as SQL wants, not backslashed."""
        converted: str = super().convert_value_str(s, state)
        return converted.replace("\\'", "''")

    def convert_condition_field_eq_val_str(self, cond: Any, state: ConversionState) -> Any:
        """Every string match is a case-insensitive ``ILIKE`` (Sigma's default)."""
        value = self.convert_value_str(cond.value, state)
        return self.wildcard_match_expression.format(
            field=self.escape_and_quote_field(cond.field), value=value
        )
