"""Ports: what the use cases need from the outside world, as ``typing.Protocol``s, by concern:
:mod:`~chatcore.ports.clock`, :mod:`~chatcore.ports.llm` (the tutor), :mod:`~chatcore.ports.storage`
(repositories and the unit of work), :mod:`~chatcore.ports.security` (passwords, tokens, attempt
counting) and :mod:`~chatcore.ports.oauth`.

Adapters implement them (``adapters.sql``, ``adapters.memory``, ``adapters.openai_llm``, ...) and
translate their library's errors into :mod:`chatcore.errors` at the boundary. Import each port from
its own module; this package re-exports nothing.
"""
