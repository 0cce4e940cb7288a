"""The agent runtime: providers (OpenAI-compatible, scripted), tools, profiles and the loop.

Model-free on purpose: run models, jobs, pages and the API drive it through
``AgentLoop`` with an ``emit`` callback and a JSON-serialisable ``LoopState``.
"""
