"""Atomic file writes: a temporary name in the target folder, fsynced and renamed, so a crash or a
full disk never leaves a half-written file; one error (``WriteError``) naming the file.
"""
from __future__ import annotations


import contextlib
import errno
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Iterator



def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _make_dirs(folder: Path) -> list[Path]:
    """Create ``folder`` and missing parents; the ones created, outermost first."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    blocking = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:  # a file where a folder should be (mkdir would say "File exists")
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(blocking))
    folder.mkdir(parents=True, exist_ok=True)
    return missing[::-1]


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_paths(*paths: str | os.PathLike) -> Iterator[tuple[Path, ...]]:
    """Temporary paths, one in each target's folder, for the body to write.

    When the body succeeds every temporary file is fsynced, given the permissions
    the umask allows (``mkstemp`` makes 0600) and renamed over its target, so the
    targets appear together and complete. On any exception the temporary files
    and the folders created for them are removed; the targets are untouched.
    """
    targets = [Path(p) for p in paths]
    created: list[Path] = []
    temps: list[Path] = []
    written = False
    try:
        for path in targets:
            created += _make_dirs(path.parent)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            os.close(fd)
            temps.append(Path(tmp))
        yield tuple(temps)
        mode = 0o666 & ~_umask()
        for tmp in temps:
            _fsync(tmp)
            os.chmod(tmp, mode)
        for tmp, path in zip(temps, targets):
            os.replace(tmp, path)
        written = True
        for folder in {path.parent for path in targets}:
            with contextlib.suppress(OSError):  # not every file system syncs folders
                _fsync(folder)
    except BaseException as err:
        for tmp in temps:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        for folder in reversed(created):
            with contextlib.suppress(OSError):
                folder.rmdir()
        if isinstance(err, OSError) and not isinstance(err, WriteError) and not written:
            raise WriteError(targets, err) from err
        raise


def _errno(err: OSError) -> int | None:
    """The error number of ``err``; h5py puts it only in its text, as ``errno = N``."""
    if err.errno is not None:
        return err.errno
    found = re.search(r"errno = (\d+)", str(err))
    return int(found.group(1)) if found else None


def _reason(err: OSError) -> str:
    """What went wrong, in a few words: the system's message for the error number, else the
    error's first line."""
    if _errno(err):
        return os.strerror(_errno(err))
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__


class WriteError(OSError):
    """Artifacts could not be written (a full disk, a read-only folder, a file where a folder
    should be, ...): one line naming them. ``errno`` is the failure's, where known."""

    def __init__(self, targets, err: OSError):
        self.targets = [Path(t) for t in targets]
        reason = _reason(err)
        names = ", ".join(map(str, self.targets))
        super().__init__(_errno(err), f"{names}: cannot write ({reason})")

    def __str__(self) -> str:
        return self.strerror


def copy_file(source: str | os.PathLike, target: str | os.PathLike) -> None:
    """Copy ``source`` to ``target`` atomically (``atomic_paths``): never half a copy."""
    with atomic_paths(target) as (tmp,):
        shutil.copyfile(source, tmp)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write a text artifact (CSV, Markdown) atomically."""
    with atomic_paths(path) as (tmp,):
        tmp.write_text(text)
