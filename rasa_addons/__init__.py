"""Custom Rasa pipeline components (run inside .venv-rasa; the only code that imports rasa).

Importing the package (Rasa does, to load the normaliser named in config.yml) also installs the
performance patches in `rasa_addons.patches`.
"""

from rasa_addons import patches

patches.apply()
