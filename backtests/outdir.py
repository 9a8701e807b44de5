"""Output folders: checked before any work, written through a staging folder, sealed by a
completion marker.

A command's files are written into a hidden staging folder beside ``--out``; only when
every file is there are they moved into ``--out``, after the files an earlier run of the
same command left there (listed by its marker) are removed, and the command's completion
marker (``.catalyst-bt-<command>.json``, naming the files) is written last. A run that dies
midway leaves ``--out`` as it was (its staging folder is removed on every exit path Python
sees, and a later run removes stale ones), so files of two runs never mix and ``report``
can require the markers.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from data_loaders.errors import ExitCode, OutputError

MARKER_PREFIX = ".catalyst-bt-"
STAGING_INFIX = ".staging-"


def marker_path(out_dir: Path, command: str) -> Path:
    """Where ``command``'s completion marker lives in ``out_dir``."""
    return Path(out_dir) / f"{MARKER_PREFIX}{command}.json"


def check_out_dir(out_dir: Path, *, option: str = "--out") -> Path:
    """Refuse an output folder that cannot or must not take results, before any work.

    Refused: the filesystem root, the home folder, an existing file (or a path under one),
    and a folder (or its nearest existing parent) this process cannot write to.

    Raises
    ------
    OutputError
        Naming the path and what to pass instead.
    """
    path = Path(out_dir).expanduser()
    resolved = path.resolve()
    if resolved == Path(resolved.anchor) or resolved == Path.home().resolve():
        what = "the filesystem root" if resolved == Path(resolved.anchor) else "your home folder"
        raise OutputError(f"{option} {out_dir} is {what}; results go into a folder of their own, "
                          f"e.g. {option} out/run1")
    if resolved.exists() and not resolved.is_dir():
        raise OutputError(f"{option} {out_dir} is an existing file, not a folder; pass a folder path "
                          f"(e.g. {option} {path.with_suffix('')}-results) or move the file away")
    probe = resolved
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(f"{option} {out_dir}: {probe} is a file, so no folder can be made under it; "
                          f"pass another {option}")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {out_dir}: {probe} is not writable by this user (read-only mount or "
                          f"permissions); pass a writable {option}")
    try:  # os.access does not see read-only mounts everywhere: try it
        fd, tmp = tempfile.mkstemp(dir=probe, prefix=".catalyst-bt-probe-")
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise OutputError(f"{option} {out_dir}: cannot create files in {probe} ({exc.strerror}); "
                          f"pass a writable {option}") from exc
    return path


def _remove_stale_staging(out_dir: Path) -> None:
    for stale in out_dir.parent.glob(f".{out_dir.name}{STAGING_INFIX}*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if pid.isdigit() and _alive(int(pid)):
            continue
        shutil.rmtree(stale, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def previous_files(out_dir: Path, command: str) -> list[str]:
    """Files the last completed ``command`` listed in its marker (empty when none / unreadable)."""
    try:
        doc = json.loads(marker_path(out_dir, command).read_text(encoding="utf-8"))
        return [str(f) for f in doc.get("files", []) if isinstance(f, str)]
    except (OSError, ValueError, AttributeError):
        return []


def _inside(folder: Path, name: str) -> Path | None:
    target = (folder / name).resolve()
    return target if target.parent == folder.resolve() or folder.resolve() in target.parents else None


@contextlib.contextmanager
def staged_output(out_dir: Path, *, command: str, owned: tuple[str, ...] = ()) -> Iterator[Path]:
    """Yield a staging folder; on a clean exit move its files into ``out_dir`` and seal them.

    Parameters
    ----------
    out_dir
        The results folder (created when missing; checked with :func:`check_out_dir`).
    command
        Names the marker (``run``, ``study`` ...).
    owned
        File or folder names this command always writes; removed from ``out_dir`` before the
        new ones land even when no marker lists them (folders from older versions).

    On an exception the staging folder is removed and ``out_dir`` is left untouched.
    """
    out_dir = check_out_dir(out_dir)
    _remove_stale_staging(out_dir)
    stage = out_dir.parent / f".{out_dir.name}{STAGING_INFIX}{command}-{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    try:
        yield stage
        out_dir.mkdir(parents=True, exist_ok=True)
        marker = marker_path(out_dir, command)
        stale = set(previous_files(out_dir, command)) | set(owned)
        marker.unlink(missing_ok=True)  # from here until the end, the folder is not complete
        for name in sorted(stale):
            target = _inside(out_dir, name)
            if target is None or target == marker:
                continue
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)
        files = sorted(p.name for p in stage.iterdir())
        for name in files:
            os.replace(stage / name, out_dir / name)
        doc = {"command": command, "files": files,
               "completed_utc": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        tmp = out_dir / f".{marker.name}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, marker)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def seal(out_dir: Path, *, command: str, files: list[str]) -> None:
    """Write ``command``'s completion marker for files written in place (sweeps, whose
    result store must stay in ``out_dir`` to resume)."""
    marker = marker_path(out_dir, command)
    doc = {"command": command, "files": sorted(files),
           "completed_utc": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    tmp = Path(out_dir) / f".{marker.name}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, marker)


def unseal(out_dir: Path, *, command: str) -> None:
    """Remove ``command``'s marker: the folder is being rewritten."""
    marker_path(out_dir, command).unlink(missing_ok=True)


def require_complete(out_dir: Path) -> list[str]:
    """The commands that completed in ``out_dir``; raise when there is none or one's files are gone.

    Raises
    ------
    OutputError
        ``out_dir`` is missing, has no completion marker (an interrupted run, or files not
        written by catalyst-bt) or a marker lists a file that is not there.
    """
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise UnfinishedResultsError(f"{out_dir} is not a folder; pass the --out folder of a finished "
                                     f"catalyst-bt run, study or sweep")
    markers = sorted(out_dir.glob(f"{MARKER_PREFIX}*.json"))
    if not markers and not any(out_dir.iterdir()):
        raise UnfinishedResultsError(
            f"{out_dir} is empty: it holds none of the files catalyst-bt run / study / sweep write "
            f"(summary.json, event_study.json, sweep_summary.json); pass their --out folder")
    if not markers:
        raise UnfinishedResultsError(
            f"{out_dir} has no completion marker ({MARKER_PREFIX}<command>.json): the run that wrote it did not "
            f"finish, or the files were not written by this version of catalyst-bt; rerun the command "
            f"(e.g. catalyst-bt run CONFIG --out {out_dir}) and report again")
    done = []
    for marker in markers:
        command = marker.stem[len(MARKER_PREFIX):]
        missing = [f for f in previous_files(out_dir, command) if not (out_dir / f).exists()]
        if missing:
            raise UnfinishedResultsError(
                f"{out_dir}: the {command} marker lists {', '.join(missing)}, which is gone; rerun "
                f"catalyst-bt {command} into {out_dir}")
        done.append(command)
    return done


class UnfinishedResultsError(OutputError):
    """A results folder without (or with a broken) completion marker: bad input to ``report``."""

    exit_code = ExitCode.BAD_INPUT


def write_study_folder(result: object, out_dir: Path) -> list[Path]:
    """The study's files (``event_study.*``, ``cross_section.*`` when there is a cross-firm
    part) staged and sealed into ``out_dir`` (the ``study`` marker); returns their final paths."""
    from backtests.event_study.section import write_study_outputs

    out_dir = Path(out_dir)
    owned = ("event_study.csv", "event_study.json", "cross_section.csv", "cross_section.json")
    with staged_output(out_dir, command="study", owned=owned) as stage:
        staged = write_study_outputs(result, stage)  # type: ignore[arg-type]
    return [out_dir / p.name for p in staged]
