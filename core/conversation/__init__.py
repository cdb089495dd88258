"""What every channel does with a citizen's message: `relay` (check, route to staff or Rasa;
`build_relay` sets one up from settings), `safety` + `emergency` + `semantic` (emergency first),
`language` (detect and localize), `routing` and `refusals` (rules no classifier overrules),
`rasa_client`, `replies` (the reply contract), `render` (payloads → a neutral card), `retry`,
`analytics`, `health`, `widget_sessions`. May import core.kb, core.handoff, core.notify,
core.cases and the shared modules; nothing imports it back except channels and services.
"""
