"""The admin UI's request handlers, one module per area."""
