"""Regenerate storage/migrations/versions/0001_initial_schema.py from the models.

Only while nothing has been released: once a database in the field is at 0001, schema changes
become new revisions (`alembic revision --autogenerate`) instead.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from alembic import command

from storage.migrate import MIGRATIONS, alembic_config

target = MIGRATIONS / "versions" / "0001_initial_schema.py"
with tempfile.TemporaryDirectory() as tmp:
    target.unlink(missing_ok=True)
    command.revision(
        alembic_config(f"sqlite:///{tmp}/gen.db"), message="initial schema", autogenerate=True, rev_id="0001"
    )
text = target.read_text(encoding="utf-8")
text = re.sub(r"storage\.models\.UTCDateTime\(timezone=True\)", "sa.DateTime(timezone=True)", text)
text = re.sub(r"Create Date: .*", "Create Date: (regenerated from the models before the first release)", text)
target.write_text(text, encoding="utf-8")
subprocess.run([sys.executable, "-m", "ruff", "format", "-q", str(target)], check=False)
print(f"wrote {Path(target).name}")
