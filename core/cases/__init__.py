"""Case status: `rules` (references, states, verified lookup), `sync` (the office's systems
keep cases current; subscriber notices), `importer` (CSV), `store` (queries), `demo` (seed
data), `python -m core.cases`. May import core.notify and the shared modules (db, hashing, …).
"""
