"""Find a pinned data file: a folder given by the caller or an environment variable, else pooch.

The datasets that do not ship inside a wheel (election88, police stops) are read from a folder
(argument, then an environment variable, then an optional default folder), else downloaded once
into pooch's cache with the pinned SHA-256 checked; the caller verifies the checksum again.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["locate_file"]


def locate_file(
    name: str,
    *,
    sha256: str,
    url: str,
    env: str,
    data_dir: str | os.PathLike | None,
    cache: str,
    default_dir: Path | None = None,
) -> Path:
    """Return the path of data file ``name`` (see the module docstring).

    Raises
    ------
    FileNotFoundError
        When a folder is given without the file, or the download fails (offline).
    """
    source = data_dir if data_dir is not None else os.environ.get(env)
    if source is None and default_dir is not None and (default_dir / name).is_file():
        source = default_dir
    if source is not None:
        path = Path(source) / name
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} not found: put {name} in the folder given by data_dir or ${env}"
            )
        return path
    import pooch

    try:
        return Path(
            pooch.retrieve(
                url,
                known_hash=f"sha256:{sha256}",
                fname=name,
                path=pooch.os_cache("gibbs-suite") / cache,
                progressbar=False,
            )
        )
    except Exception as exc:  # network errors come in many types; all mean the same here
        raise FileNotFoundError(
            f"could not download {name} ({type(exc).__name__}: {exc}). Offline, put it in a "
            f"folder and pass it as data_dir or set ${env} to it (SHA-256 {sha256})"
        ) from exc
