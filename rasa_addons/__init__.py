"""Custom Rasa pipeline components (run inside .venv-rasa; the only code that imports rasa)."""
