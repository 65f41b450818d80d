"""The LLM port on the ``openai`` SDK (OpenAI and OpenAI-compatible servers)."""

from adapters.openai_llm.gateway import OpenAIGateway

__all__ = ["OpenAIGateway"]
