"""unitcost: unit economics for self-hosted LLMs."""
