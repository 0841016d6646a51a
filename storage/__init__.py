"""Storage: SQLAlchemy 2.0 models on one DeclarativeBase, engines, sessions, migrations."""
