"""Vietnamese text normalisation for the NLU pipeline (runs inside Rasa's environment: standard library only)."""
