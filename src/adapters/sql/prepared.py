"""Hot-path statements: compiled once by SQLAlchemy, run on the driver connection directly.

Asking the tutor commits one small transaction: take a quota slot, store the learner's message,
later store the reply. On SQLite each statement takes a few microseconds, while SQLAlchemy's
execution pipeline around it (execution context, result object, greenlet bridge) costs 50-100 µs:
most of the transaction. A :class:`Prepared` statement keeps the Core construct as the single
definition, lets SQLAlchemy compile it (``construct_expanded_state`` gives the SQL and the parameters' order)
and process its parameters (each typed ``bindparam``'s ``bind_processor`` for the dialect, for
dates, timestamps and the rest: exactly what SQLAlchemy itself would send), and hands the SQL and
the values to the driver connection. Only public SQLAlchemy API is used, so every parameter must be
a named ``bindparam`` with a type: that is checked when the statement is first compiled. The transaction is
still SQLAlchemy's: it is begun through the ``AsyncConnection`` (so ``BEGIN IMMEDIATE`` and the
read-only option apply), committed and rolled back by it; the one exception is a read that runs
alone before a SQLite write transaction (``Transaction.rows(read_alone=True)``), which the driver
wraps in a deferred ``BEGIN`` and a ``ROLLBACK`` of its own.

On PostgreSQL the same holds for SQLAlchemy's execution pipeline around asyncpg (compiled-cache
lookup, execution context, result object, the greenlet bridge): a statement that commits as it runs
(a unit of work in autocommit, :mod:`adapters.sql.uow`) goes to asyncpg's driver connection directly,
whose own statement cache prepares it once per connection; a statement inside a transaction goes
the ordinary way, since that transaction belongs to SQLAlchemy's asyncpg adapter.

The rows that come back are plain driver rows (indexable), with each column's result processor
(``result_processor`` of its type for the dialect: what SQLAlchemy itself would apply) applied.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

from sqlalchemy import BindParameter, ClauseElement, Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import ReturnsRows
from sqlalchemy.sql.visitors import iterate
from sqlalchemy.types import NullType


class _Parameter(NamedTuple):  # a tuple: unpacked once per parameter of every statement run
    name: str
    required: bool
    constant: Any
    """The statement's own value (used when the caller gives none and it is not required)."""
    process: Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Plan:
    sql: str
    parameters: tuple[_Parameter, ...]
    """In the order of the statement's placeholders."""
    results: tuple[tuple[int, Callable[[Any], Any]], ...]
    """The result columns that need processing: (position, processor)."""


def _binds(statement: Executable, given: tuple[BindParameter[Any], ...]) -> dict[str, BindParameter[Any]]:
    binds: dict[str, BindParameter[Any]] = {}
    # Some clauses are not traversed by every SQLAlchemy version (ON CONFLICT's WHERE in 2.0):
    # their parameters are given to Prepared explicitly.
    for element in (*iterate(cast(ClauseElement, statement)), *given):  # every Core statement is one
        if isinstance(element, BindParameter):
            if isinstance(element.type, NullType):
                raise ValueError(f"give the prepared statement's parameter {element.key!r} a type")
            binds[element.key] = element
    return binds


class Prepared:
    """A Core statement, compiled once per dialect, with its positional parameter plan."""

    def __init__(self, statement: Executable, *binds: BindParameter[Any]) -> None:
        """``binds``: the statement's parameters that SQLAlchemy's traversal may not reach."""
        self.statement = statement
        self._given = binds
        self._plans: dict[str, _Plan] = {}

    def _plan(self, dialect: Dialect) -> _Plan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            compiled: SQLCompiler = self.statement.compile(dialect=dialect)  # type: ignore[attr-defined]
            # Each parameter's own name as its value: the positional values are then the names
            # in the order of the placeholders.
            state = compiled.construct_expanded_state({name: name for name in compiled.params})
            if not dialect.positional:
                raise ValueError(f"{dialect.name} does not use positional parameters")
            if state.parameter_expansion or state.statement != compiled.string:
                raise ValueError("expanding (IN) or literal-execute parameters need SQLAlchemy's execute()")
            order: tuple[str, ...] = state.positional_parameters
            binds = _binds(self.statement, self._given)
            unnamed = [name for name in order if name not in binds]
            if unnamed:  # a literal value or an anonymous parameter, whose type we cannot see
                raise ValueError(f"write {unnamed} as named, typed bindparam()s to prepare the statement")
            plan = self._plans[dialect.name] = _Plan(
                sql=state.statement,
                parameters=tuple(
                    _Parameter(
                        name=name,
                        required=binds[name].required,
                        constant=binds[name].effective_value,
                        process=binds[name].type.dialect_impl(dialect).bind_processor(dialect),
                    )
                    for name in order
                ),
                results=self._results(dialect),
            )
        return plan

    def _results(self, dialect: Dialect) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
        if not isinstance(self.statement, ReturnsRows):
            return ()
        processors = (
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in self.statement.exported_columns
        )
        results = tuple((i, process) for i, process in enumerate(processors) if process is not None)
        for _, process in results:
            if process(None) is not None:  # rows() leaves NULLs alone
                raise ValueError(
                    "a result processor that turns NULL into a value needs SQLAlchemy's execute()"
                )
        return results

    def sql(self, dialect: Dialect) -> str:
        return self._plan(dialect).sql

    def parameters(self, dialect: Dialect, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The driver's positional parameters for ``values``, processed as SQLAlchemy would."""
        out = []
        for name, required, constant, process in self._plan(dialect).parameters:
            # KeyError for a missing value, never a NULL
            value = values[name] if required or name in values else constant
            out.append(value if process is None else process(value))
        return tuple(out)

    def rows(self, dialect: Dialect, rows: Sequence[Sequence[Any]]) -> Sequence[Sequence[Any]]:
        """The driver's ``rows`` of this statement with each column processed as SQLAlchemy would
        (as they are when no column needs it). A NULL stays ``None`` without a call: the union
        statements of the hot path have many, and every processor maps ``None`` to ``None``
        (checked when the statement is first compiled)."""
        results = self._plan(dialect).results
        if not results or not rows:
            return rows
        out = []
        for row in rows:
            values = list(row)
            for i, process in results:
                value = values[i]
                if value is not None:
                    values[i] = process(value)
            out.append(values)
        return out
