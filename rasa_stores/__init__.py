"""Stores that Rasa loads by module path from endpoints.yml (Rasa runs from the repository root)."""
