"""One Router per topic (`commands`, `messages`, `callbacks`, `other`); handlers receive `relay`,
`kb`, `sessions`, `settings`, `clock` and `lang` by name. May import core/ and bot.telegram."""
