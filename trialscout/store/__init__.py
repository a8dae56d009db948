"""The trial store: SQLAlchemy tables, Alembic migrations and the repository that writes them."""
