"""On-disk layout of index versions: versions/<version>/ directories and the atomic CURRENT pointer."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

POINTER_NAME = "CURRENT"
VERSIONS_DIR = "versions"
MANIFEST_NAME = "manifest.json"


def new_version_name() -> str:
    """A sortable, unique version name: UTC timestamp plus a random suffix."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(3)


def write_json_atomic(path: Path, data: dict) -> None:
    """Write JSON to `path` so readers see the old file or the new one, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class IndexPointerError(ValueError):
    """The CURRENT pointer exists but cannot be read (garbage, half-written by hand, wrong shape)."""


class IndexStore:
    """The index root: immutable version directories and the pointer naming the current one."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.versions_dir = self.root / VERSIONS_DIR
        self.pointer = self.root / POINTER_NAME

    def version_dir(self, version: str) -> Path:
        """Directory of one version (refuses names that would escape the versions directory)."""
        if not version or "/" in version or version.startswith("."):
            raise ValueError(f"invalid index version name {version!r}")
        return self.versions_dir / version

    def new_version_dir(self) -> tuple[str, Path]:
        """Create an empty directory for a new version and return (version, path)."""
        version = new_version_name()
        path = self.version_dir(version)
        path.mkdir(parents=True, exist_ok=False)
        return version, path

    def current(self) -> dict | None:
        """The pointer's content ({"version", "switched_at", ...}) or None if no version is current."""
        try:
            data = json.loads(self.pointer.read_text())
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise IndexPointerError(f"{self.pointer} is unreadable: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("version"), str):
            raise IndexPointerError(f"{self.pointer} does not name a version")
        return data

    def current_version(self) -> str | None:
        """Name of the current version, or None."""
        pointer = self.current()
        return pointer["version"] if pointer else None

    def pointer_stamp(self) -> tuple[int, int, int] | None:
        """Cheap identity of the pointer file (inode, mtime, size): changes whenever it is replaced."""
        try:
            stat = self.pointer.stat()
        except FileNotFoundError:
            return None
        return stat.st_ino, stat.st_mtime_ns, stat.st_size

    def set_current(self, version: str, **extra: object) -> None:
        """Atomically point CURRENT at `version` (which must hold a manifest)."""
        if not (self.version_dir(version) / MANIFEST_NAME).exists():
            raise FileNotFoundError(f"index version {version} has no manifest")
        data = {"version": version, "switched_at": datetime.now(UTC).isoformat(), **extra}
        write_json_atomic(self.pointer, data)

    def versions(self) -> list[str]:
        """Complete versions on disk (with a manifest), oldest first."""
        if not self.versions_dir.exists():
            return []
        return sorted(p.name for p in self.versions_dir.iterdir() if (p / MANIFEST_NAME).exists())

    def prune(self, *, keep: int, protect: set[str] | frozenset[str] = frozenset()) -> list[str]:
        """Delete all but the newest `keep` versions (never the current or protected ones); return the deleted."""
        protected = set(protect) | {v for v in [self.current_version()] if v}
        candidates = [v for v in self.versions() if v not in protected]
        doomed = candidates[: max(0, len(candidates) - max(0, keep - len(protected)))]
        for version in doomed:
            shutil.rmtree(self.version_dir(version), ignore_errors=True)
        return doomed

    def incomplete(self) -> list[str]:
        """Version directories without a manifest: being built, or left by a build that crashed (disk full, kill)."""
        if not self.versions_dir.exists():
            return []
        return sorted(p.name for p in self.versions_dir.iterdir() if p.is_dir() and not (p / MANIFEST_NAME).exists())

    def discard(self, version: str) -> None:
        """Remove an unfinished or failed version directory."""
        shutil.rmtree(self.version_dir(version), ignore_errors=True)
