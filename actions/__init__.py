"""Custom actions (rasa-sdk), one capability per module, each on `base.CitizenAction` (emergency
first, then the citizen's language); logic lives in core/. May import core/ and rasa_sdk only."""

import warnings

# rasa-sdk 3.21 serving Rasa 3.6 works (text + custom payloads) but warns on every start.
warnings.filterwarnings("ignore", message=".*compatib.*")
