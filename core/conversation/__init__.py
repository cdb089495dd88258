"""What every channel does with a citizen's message: `relay` (check, route to staff or Rasa),
`rasa_client`, `replies` (the reply contract), `render` (payloads → a neutral message shape),
`retry` (back-off), `emergency`, `analytics`, `health`. May import core.kb, core.handoff,
core.notify and the shared modules; nothing imports it back except channels and services.
"""
