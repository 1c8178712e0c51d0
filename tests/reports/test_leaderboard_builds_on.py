"""``--builds-on NAME=ENTRY``: a run file that reranks another entry's ranking counts for the baseline rule."""

from __future__ import annotations

import pytest

from harness.cli import main
from tiny_data import QRELS, TOPICS

DL19 = "msmarco-passage-mini/trec-dl-2019"


def write_run(path, order: dict[str, list[str]]):
    path.write_text(
        "".join(f"{q} Q0 {d} {rank} {10 - rank} t\n" for q, docs in order.items() for rank, d in enumerate(docs, start=1))
    )
    return path


@pytest.fixture()
def run_files(tiny_root, tmp_path):
    grade = {(q, d): r for q, d, r in QRELS if q in TOPICS}
    best = {q: sorted((d for qq, d in grade if qq == q), key=lambda d: -grade[q, d]) for q in TOPICS}
    worst = {q: docs[::-1] for q, docs in best.items()}
    middle = {q: docs[1:] + docs[:1] for q, docs in best.items()}
    return {
        name: write_run(tmp_path / f"{name}.trec", order)
        for name, order in (("first", middle), ("rerank", best), ("other", worst))
    }


def leaderboard(capsys, files, *extra):
    code = main(
        [
            "leaderboard",
            "--dataset",
            DL19,
            "--resamples",
            "200",
            "--test",
            "student",
            *(arg for name, path in files.items() for arg in ("--run-file", f"{path}={name}")),
            *extra,
        ]
    )
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_linked_run_file_makes_its_first_stage_the_baseline(run_files, capsys):
    code, out, _ = leaderboard(capsys, run_files)
    assert code == 0 and out.splitlines()[0].startswith("baseline: rerank, the best entry")  # nothing links
    code, out, _ = leaderboard(capsys, run_files, "--builds-on", "rerank=first")
    assert code == 0 and out.splitlines()[0] == "baseline: first, the first stage the others build on"


@pytest.mark.parametrize(
    "spec, message",
    [
        ("rerank", "--builds-on wants RUN_FILE_NAME=ENTRY"),
        ("nobody=first", "no run file is named 'nobody' (run files: first, rerank, other)"),
        ("rerank=nothing", "baseline 'nothing' matches 0 entries"),
    ],
)
def test_bad_links_are_errors_naming_the_flag(run_files, capsys, spec, message):
    code, _, err = leaderboard(capsys, run_files, "--builds-on", spec)
    assert code == 2 and message in err and "Traceback" not in err


def test_a_link_to_an_entry_that_builds_on_another_is_refused(run_files, capsys):
    code, _, err = leaderboard(capsys, run_files, "--builds-on", "rerank=first", "--builds-on", "other=rerank")
    assert code == 2 and "'rerank' is not a first stage" in err
