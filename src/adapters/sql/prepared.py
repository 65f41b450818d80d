"""Hot-path statements: compiled once by SQLAlchemy, run on SQLite's driver connection directly.

Asking the tutor commits one small transaction: take a quota slot, store the learner's message,
later store the reply. On SQLite each statement takes a few microseconds, while SQLAlchemy's
execution pipeline around it (execution context, result object, greenlet bridge) costs 50-100 µs:
most of the transaction. A :class:`Prepared` statement keeps the Core construct as the single
definition, lets SQLAlchemy compile it and build its parameters (``construct_params``, the
dialect's bind processors for dates, timestamps and the rest: exactly what SQLAlchemy itself
would send), and hands the SQL and the values to the driver connection. The transaction is
still SQLAlchemy's: it is begun through the ``AsyncConnection`` (so ``BEGIN IMMEDIATE`` and the
read-only option apply), committed and rolled back by it.

Only statements whose result is one value (or nothing) go this way: no result processing is
needed. On PostgreSQL asyncpg's prepared statements already make a statement cheap, and the
transaction belongs to SQLAlchemy's asyncpg adapter, so statements go the ordinary way there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler

_REQUIRED = object()


@dataclass(frozen=True)
class _Plan:
    sql: str
    keys: tuple[str, ...]
    constants: tuple[Any, ...]
    """The statement's own value of each parameter (``_REQUIRED`` where the caller gives it)."""
    processors: tuple[Callable[[Any], Any] | None, ...]


class Prepared:
    """A Core statement, compiled once per dialect, with its positional parameter plan."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._plans: dict[str, _Plan] = {}

    def _plan(self, dialect: Dialect) -> _Plan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            compiled: SQLCompiler = self.statement.compile(dialect=dialect)  # type: ignore[attr-defined]
            if not compiled.positional or compiled.positiontup is None:
                raise ValueError(f"{dialect.name} does not use positional parameters")
            if compiled.post_compile_params or compiled.literal_execute_params:
                raise ValueError("expanding (IN) or literal-execute parameters need SQLAlchemy's execute()")
            binds = [compiled.binds[key] for key in compiled.positiontup]
            plan = self._plans[dialect.name] = _Plan(
                sql=compiled.string,
                keys=tuple(compiled.positiontup),
                constants=tuple(_REQUIRED if bind.required else bind.effective_value for bind in binds),
                processors=tuple(bind.type.dialect_impl(dialect).bind_processor(dialect) for bind in binds),
            )
        return plan

    def sql(self, dialect: Dialect) -> str:
        return self._plan(dialect).sql

    def parameters(self, dialect: Dialect, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The driver's positional parameters for ``values``, processed as SQLAlchemy would."""
        plan = self._plan(dialect)
        out = []
        for key, constant, process in zip(plan.keys, plan.constants, plan.processors, strict=True):
            value = values[key] if constant is _REQUIRED or key in values else constant
            out.append(value if process is None else process(value))
        return tuple(out)
