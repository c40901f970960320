"""The feature SQL stays portable: a later issue runs the same files on Spark through
sqlglot. Each file must parse as DuckDB, use only functions sqlglot knows (an unknown one
would be copied to Spark as is and fail there), transpile with nothing unsupported, and
come out as Spark SQL that parses again with the same named parameters."""

from __future__ import annotations

from importlib import resources

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

SQL_FILES = sorted(
    entry.name
    for entry in resources.files("vigile.detect").joinpath("sql").iterdir()
    if entry.name.endswith(".sql")
)


def portability_problems(text: str) -> list[str]:
    """What keeps DuckDB SQL ``text`` from running on Spark through sqlglot (empty: none)."""
    problems: list[str] = []
    trees = [tree for tree in sqlglot.parse(text, read="duckdb") if tree is not None]
    for tree in trees:
        unknown = sorted({node.name for node in tree.find_all(exp.Anonymous)})
        problems.extend(f"function {name}() is not known to sqlglot" for name in unknown)
        try:
            spark = tree.sql(dialect="spark", unsupported_level=ErrorLevel.RAISE)
        except sqlglot.errors.UnsupportedError as error:
            problems.append(f"unsupported on Spark: {error}")
            continue
        wanted = {node.name for node in tree.find_all(exp.Placeholder)}
        again = sqlglot.parse_one(spark, read="spark")
        given = {node.name for node in again.find_all(exp.Placeholder)}
        if wanted != given:
            problems.append(f"parameters {sorted(wanted)} came out as {sorted(given)}")
    return problems


def test_every_feature_file_is_checked() -> None:
    assert {"features.sql", "judged.sql", "remember.sql", "schema.sql"} <= set(SQL_FILES)


@pytest.mark.parametrize("name", SQL_FILES)
def test_feature_sql_transpiles_to_spark(name: str) -> None:
    text = resources.files("vigile.detect").joinpath(f"sql/{name}").read_text("utf-8")
    assert portability_problems(text) == []


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("SELECT epoch_us(t) FROM x", "epoch_us"),  # DuckDB only: sqlglot passes it through
        ("SELECT a FROM x WHERE t >= $since_us AND foo_bar(a)", "foo_bar"),
    ],
)
def test_a_duckdb_only_function_is_reported(sql: str, problem: str) -> None:
    [found] = portability_problems(sql)
    assert problem in found


def test_portable_sql_passes_with_its_parameters() -> None:
    sql = "SELECT arg_max(a, t), count(DISTINCT c) FROM x WHERE t >= $since_us GROUP BY g"
    assert portability_problems(sql) == []
