"""App database: engine/session factory, typed models, repositories."""
