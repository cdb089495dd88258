"""Custom actions (rasa-sdk). Each module is one capability; logic lives in core/."""

import warnings

# rasa-sdk 3.21 serving Rasa 3.6 works (text + custom payloads) but warns on every start.
warnings.filterwarnings("ignore", message=".*compatib.*")
