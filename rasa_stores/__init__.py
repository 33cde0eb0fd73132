"""Stores that Rasa loads by module path from endpoints.yml (Rasa runs from the repository root).

Every Rasa server loads them, so the fix of action_results is installed here."""
from rasa_stores import action_results

action_results.install()
