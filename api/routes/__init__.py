"""One router per area (`widget`, `console/` by page, `cases`, `pages`, `telegram`, `wechat`).
May import core/ and api's own `deps`, `errors` and `security`."""
