import os
from pathlib import Path

import pytest

# The all-states radon files: CI points GIBBS_SUITE_RADON_DIR at shared/data/radon; a developer
# checkout beside shared/ finds them there too.
_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "radon"


@pytest.fixture(scope="session")
def radon_dir():
    folder = os.environ.get("GIBBS_SUITE_RADON_DIR") or (_SHARED if _SHARED.is_dir() else None)
    if folder is None:
        pytest.skip("radon survey files not available (set GIBBS_SUITE_RADON_DIR)")
    return Path(folder)
