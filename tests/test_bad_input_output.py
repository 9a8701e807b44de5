"""The output side: --out checked before any work, staged writes sealed by a completion
marker, reruns that never mix files of two runs, disk full without a traceback or a partial
folder, and ``report`` refusing unfinished folders."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from bad_input_helpers import cli, leftovers, write_config
from backtests import outdir, results


def test_out_at_an_existing_file_is_refused_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "taken.txt"
    target.write_text("keep me\n")
    code, out, err = cli(capsys, "run", str(write_config(tmp_path)), "--out", str(target))
    assert code == 4
    assert f"--out {target} is an existing file, not a folder" in err and "Traceback" not in err
    assert target.read_text() == "keep me\n" and "final equity" not in out


def test_out_at_the_root_or_under_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "run", str(write_config(tmp_path)), "--out", "/")
    assert code == 4 and "--out / is the filesystem root" in err
    (tmp_path / "f").write_text("x")
    code, _, err = cli(capsys, "demo", "--out", str(tmp_path / "f" / "sub"))
    assert code == 4 and "is a file, so no folder can be made under it" in err


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs a read-only filesystem (/proc)")
def test_out_on_a_read_only_place_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "run", str(write_config(tmp_path)), "--out", "/proc/catalyst-bt-out")
    assert code == 4 and "--out /proc/catalyst-bt-out" in err and "pass a writable --out" in err


def test_rerun_replaces_the_previous_runs_files_and_seals_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("STALE note of an older run\n")
    (out / "mine.txt").write_text("a file of the user's\n")
    code, _, err = cli(capsys, "run", str(write_config(tmp_path)), "--out", str(out))
    assert code == 0, err
    notes = (out / "notes.txt").read_text() if (out / "notes.txt").exists() else ""
    assert "STALE" not in notes
    assert (out / "mine.txt").read_text() == "a file of the user's\n"  # not ours: left alone
    marker = json.loads(outdir.marker_path(out, "run").read_text())
    assert {"trades.csv", "summary.json", "provenance.json"} <= set(marker["files"])
    assert leftovers(out) == []


def test_disk_full_mid_run_leaves_no_partial_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # fault injection at the file-system edge: the third file written finds the disk full
    real, calls = results.atomic_write_text, []

    def full_disk(path: Path, text: str) -> None:
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(path, text)

    monkeypatch.setattr(results, "atomic_write_text", full_disk)
    out = tmp_path / "out"
    code, _, err = cli(capsys, "run", str(write_config(tmp_path)), "--out", str(out))
    assert code == 4
    assert "the disk is full while writing" in err and "free space or pass --out on another disk" in err
    assert "Traceback" not in err
    assert not out.exists() and leftovers(out) == []


def test_report_refuses_an_unfinished_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code, _, _ = cli(capsys, "run", str(write_config(tmp_path)), "--out", str(out))
    assert code == 0
    outdir.marker_path(out, "run").unlink()  # as if the run had died before sealing
    code, stdout, err = cli(capsys, "report", str(out))
    assert code == 2
    assert "has no completion marker" in err and "rerun the command" in err
    assert "wrote" not in stdout and not (out / "tearsheet.html").exists()


def test_report_refuses_a_folder_whose_marker_lists_a_missing_file(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert cli(capsys, "run", str(write_config(tmp_path)), "--out", str(out))[0] == 0
    (out / "trades.csv").unlink()
    code, stdout, err = cli(capsys, "report", str(out))
    assert code == 2 and "the run marker lists trades.csv, which is gone" in err and "wrote" not in stdout


def test_notes_are_printed_without_rich_markup(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from backtests import runner

    real = runner.run_flags

    def with_note(result, cfg):  # noqa: ANN001, ANN202 - a note as validation writes it
        return [*real(result, cfg), {"kind": "check", "message": "open or close outside [low, high] on 2025-03-04"}]

    monkeypatch.setattr(runner, "run_flags", with_note)
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = cli(capsys, "run", str(write_config(tmp_path)), "--out", str(tmp_path / "out"))
    assert code == 0
    assert "outside [low, high] on 2025-03-04" in out


def test_report_on_broken_files_writes_nothing_and_says_which(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert cli(capsys, "run", str(write_config(tmp_path)), "--out", str(out))[0] == 0
    (out / "summary.json").write_text("{bad", encoding="utf-8")
    code, stdout, err = cli(capsys, "report", str(out))
    assert code == 2
    assert "summary.json: not valid JSON (line 1, column 2" in err and "no tearsheet written" in err
    assert "wrote" not in stdout and not (out / "tearsheet.html").exists()
