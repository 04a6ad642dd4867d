"""Writing outputs atomically: nothing half-written is ever left behind.

A file is written to a temporary sibling and renamed into place; an output
folder is built as a temporary sibling folder and renamed into place when
everything in it is complete. An existing output is only replaced with
``force=True``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import OutputError

__all__ = ["atomic_output_dir", "atomic_write_bytes", "atomic_write_text", "file_mode"]


def file_mode() -> int:
    """The permission bits a plain new file gets under the current umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    p = Path(path)
    directory = p.parent if str(p.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=directory)
    except OSError as e:
        raise OutputError(f"cannot write {p}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, file_mode())
        os.replace(tmp, p)
    except OSError as e:
        _remove(tmp)
        raise OutputError(f"cannot write {p}: {e.strerror or e}") from None
    except BaseException:
        _remove(tmp)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_output_dir(path: str | os.PathLike[str], *, force: bool = False) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``path``.

    Refuses an existing ``path`` unless ``force``. On any error (Ctrl-C
    included) the temporary folder is removed and ``path`` is untouched.
    """
    dest = check_output_dir(path, force=force)
    parent = dest.parent if str(dest.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=parent))
    except OSError as e:
        raise OutputError(f"cannot create {dest}: {e.strerror or e}") from None
    try:
        os.chmod(tmp, 0o777 & ~(0o777 - (file_mode() | 0o111)))
        yield tmp
        old = None
        if dest.exists():
            old = parent / f".{dest.name}.old.{os.getpid()}"
            os.replace(dest, old)
        try:
            os.replace(tmp, dest)
        except OSError:
            if old is not None:
                os.replace(old, dest)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(f"cannot write {dest}: {e.strerror or e}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def check_output_dir(path: str | os.PathLike[str], *, force: bool = False) -> Path:
    """``path`` as a folder that :func:`atomic_output_dir` may write, else :class:`OutputError`."""
    dest = Path(path)
    if dest.exists() and not force:
        raise OutputError(f"{dest} already exists (use --force to replace it)")
    if dest.exists() and not dest.is_dir():
        raise OutputError(f"{dest} exists and is not a folder")
    if dest.exists():
        _check_replaceable(dest)
    return dest


def _check_replaceable(dest: Path) -> None:
    """Refuse to replace a folder whose loss is surely a typo (``-o ~ --force``,
    ``-o .. --force``): the current folder or one above it, the home folder."""
    try:
        real = dest.resolve()
        cwd = Path.cwd().resolve()
    except OSError:
        return
    if real == cwd or real in cwd.parents:
        raise OutputError(f"{dest} is the current folder or contains it; refusing to replace it")
    with contextlib.suppress(RuntimeError, KeyError, OSError):
        if real == Path.home().resolve():
            raise OutputError(f"{dest} is the home folder; refusing to replace it")


def _remove(p: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(p)
