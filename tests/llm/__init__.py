"""Tests of the LLM port: contract specs, the OpenAI adapter over a fake server, the offline tutor."""
