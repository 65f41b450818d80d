"""The LLM port on the Chat Completions API (OpenAI and OpenAI-compatible servers), over aiohttp."""

from adapters.openai_llm.gateway import OpenAIGateway

__all__ = ["OpenAIGateway"]
