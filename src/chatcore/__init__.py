"""chatcore: the domain of an English conversation and job-interview practice service.

Pure Python (standard library only). Each name has one home, imported from there:

- use cases: :mod:`chatcore.accounts` (``AccountService``), :mod:`chatcore.chats` (``ChatService``:
  a learner's chats), :mod:`chatcore.tutoring` (``TutorService``: asking the tutor, the quota),
  :mod:`chatcore.relay` (``RelayService``: the OpenAI-compatible relay), :mod:`chatcore.housekeeping`;
  every counted request lives as :mod:`chatcore.counted` describes;
- values and rules: :mod:`chatcore.model`, :mod:`chatcore.quota`, :mod:`chatcore.tutor` (prompts),
  :mod:`chatcore.results`, :mod:`chatcore.errors`;
- the outside world: the ports in :mod:`chatcore.ports`. Working fakes of the clock, the tutor, the
  password hasher and the token service are in :mod:`chatcore.testing`; the in-memory storage
  (every repository, the unit of work and the login limiter) is the ``adapters.memory`` package,
  outside chatcore.
"""
