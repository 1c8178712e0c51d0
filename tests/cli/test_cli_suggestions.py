"""The CLI tells a newcomer the truth: "did you mean" for near misses, each subcommand's own usage."""

import subprocess
import sys

import pytest

from harness.cli import main
from harness.cli.overrides import check_overrides, did_you_mean, split_flags
from harness.config import conf_dir
from harness.errors import ConfigError


def check(*overrides):
    check_overrides(list(overrides), conf_dir())


def test_misspelled_option_suggests_the_closest_and_lists_all():
    with pytest.raises(ConfigError) as error:
        check("reranker=cross_encodr")
    message = str(error.value)
    assert "reranker=cross_encodr" in message and "did you mean cross_encoder?" in message
    assert "options: bi_encoder, cross_encoder, late_interaction" in message


def test_wrong_nested_dataset_lists_the_nested_options():
    with pytest.raises(ConfigError) as error:
        check("dataset=msmarco-passage-mini/trec-dl-2021")
    message = str(error.value)
    assert "did you mean msmarco-passage-mini/trec-dl-20" in message
    options = message.split("options: ")[1].split(", ")
    assert {
        "msmarco-passage-mini/trec-dl-2019",
        "msmarco-passage-mini/trec-dl-2020",
        "ir_datasets",
        "qa-jsonl",
        "halueval-qa/test",
    } <= set(options)


@pytest.mark.parametrize(
    "override, group, meant",
    [
        ("experiment=oficial_bm25", "experiment", "official_bm25"),
        ("tracking=mlfow", "tracking", "mlflow"),
        ("peft=lor", "peft", "lora"),
        ("retriever=bm52", "retriever", "bm25"),
    ],
)
def test_every_group_gets_a_suggestion(override, group, meant):
    with pytest.raises(ConfigError, match=f"'{group}'; did you mean {meant}\\?"):
        check(override)


def test_a_sweep_value_is_checked_too():
    with pytest.raises(ConfigError, match="did you mean cross_encoder"):
        check("reranker=bi_encoder,cross_encodr")


def test_misspelled_keys():
    with pytest.raises(ConfigError, match="unknown top-level key 'datset'; did you mean dataset\\?"):
        check("datset=x")
    with pytest.raises(ConfigError, match="did you mean reranker\\?"):
        check("+rerankr=bi_encoder")  # Hydra itself would add this key silently
    with pytest.raises(ConfigError, match="'retriever' has the key 'k11'; did you mean retriever.k1\\?"):
        check("retriever.k11=2")
    with pytest.raises(ConfigError, match="did you mean dataset.judged_only\\?"):
        check("dataset.judged_onl=false")


def test_valid_overrides_pass():
    check(
        "reranker=cross_encoder",
        "dataset=msmarco-passage-mini/trec-dl-2020",
        "reranker=null",
        "~generator",
        "retriever.k1=0.6,0.9",
        "+retriever.k11=2",
        "experiment_name=x",
        "hydra.job.chdir=true",
        "retriever=glob(*)",
        "dataset.judged_only=false",
        "plugins.blocked=[retriever.bm25]",
    )
    check("retriever.zzz=2")  # no near match: left to Hydra's own message


def test_did_you_mean_keeps_only_near_ties():
    assert did_you_mean("cross_encodr", ["bi_encoder", "cross_encoder"]) == "; did you mean cross_encoder?"
    assert did_you_mean("zzz", ["bi_encoder"]) == ""
    assert did_you_mean("a-2021", ["a-2019", "a-2020"]) in (
        "; did you mean a-2019 or a-2020?",
        "; did you mean a-2020 or a-2019?",
    )


def test_flags_are_put_before_the_overrides():
    assert split_flags(["a=1", "--cfg", "job", "b=2", "-m", "c=3", "--info", "searchpath", "d=4"]) == (
        ["--cfg", "job", "-m", "--info", "searchpath"],
        ["a=1", "b=2", "c=3", "d=4"],
    )


SUBCOMMANDS = [
    "evaluate",
    "datasets",
    "datasets check",
    "plugins",
    "plugins list",
    "plugins new",
    "leaderboard",
    "compare",
    "noise-curve",
    "plot-sweep",
]


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_each_subcommand_help_starts_with_its_own_usage(command, capsys):
    with pytest.raises(SystemExit) as done:
        main([*command.split(), "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: harness {command} "), out[:300]
    assert "harness plot-sweep --experiment" not in out or command == "plot-sweep"  # not the global list


@pytest.mark.slow
def test_run_help_and_a_misspelled_option_end_to_end():
    run = [sys.executable, "-m", "harness.cli", "run"]
    shown = subprocess.run([*run, "--help"], capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0 and shown.stdout.startswith("usage: harness run "), shown.stdout[:300]
    wrong = subprocess.run([*run, "reranker=cross_encodr"], capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 2 and "did you mean cross_encoder?" in wrong.stderr, wrong.stderr[-2000:]
    assert "Traceback" not in wrong.stderr
