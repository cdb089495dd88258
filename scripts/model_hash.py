"""Print the hash that names the trained model: everything that changes what Rasa learns.

Stdlib only, so any Python can run it before the venvs exist.
"""

import hashlib
import sys
from pathlib import Path

INPUTS = [
    "config.yml",
    "domain.yml",
    "data",
    # The add-ons that change what the model learns (kb/ is not here: Rasa no longer learns it).
    "rasa_addons/normalizer.py",
    "rasa_addons/dense_featurizer.py",
    "core/encoder.py",  # the length at which messages are cut before embedding
    "core/text.py",
    "requirements/rasa-constraints.txt",
]


def model_hash(root: Path, inputs: list[str] = INPUTS) -> str:
    """Hash of the files under `inputs` (paths relative to `root`, directories recursively)."""
    digest = hashlib.sha256()
    for name in inputs:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if "__pycache__" in file.parts:
                continue
            digest.update(str(file.relative_to(root)).encode())
            digest.update(b"\0")
            digest.update(file.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()[:16]


if __name__ == "__main__":
    sys.stdout.write(model_hash(Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()) + "\n")
