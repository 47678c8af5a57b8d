"""The Fernhollow Bank assistant: configuration, prompts, generation, tools, guards, policy, the turn
pipeline, memory, storage and the CLI. Uses `knowledge` only through its public API."""
