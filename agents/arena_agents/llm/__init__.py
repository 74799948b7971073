"""LLM agents on pydantic-ai: any hosted model string or any local OpenAI-compatible server."""
