"""The ``harness`` command. Imports stay inside the subcommands so ``--help`` is instant."""

from __future__ import annotations

import argparse
import sys

USAGE = """harness run [HYDRA OVERRIDES...]     run one experiment, or a sweep with -m
harness evaluate RUN --dataset ID     evaluate any TREC run file against a dataset's qrels
harness datasets check [OVERRIDES...] counts and problems of a dataset (dataset=files dataset.docs=...)
harness plugins list [-v] [--trace]   installed plugins and the components they register
harness plugins new NAME --kind KIND  scaffold a plugin package (see docs/plugins.md)
harness leaderboard [OPTIONS]         rank MLflow runs and run files, with significance tests
harness compare A B [OPTIONS]         two runs (MLflow ids or run files) query by query
harness noise-curve FOLDER            RAG rates vs noise ratio of a sweep: curves.json + plot
harness plot-sweep --experiment E --x PARAM [--series P]   a metric vs a swept parameter (MLflow)"""

EPILOG = """examples:
  harness run                                          # BM25 on msmarco-passage-mini DL19
  harness run dataset=msmarco-passage-mini/trec-dl-2020 retriever=run
  harness run -m retriever.k1=0.6,0.9,1.2              # a sweep: one MLflow run per job
  harness run --cfg job                                # print the composed config
  harness evaluate results/default/bm25-*/run.trec --dataset msmarco-passage-mini/trec-dl-2019
  harness datasets check dataset=files dataset.docs=docs.trec dataset.queries=topics.txt dataset.qrels=qrels.txt
  harness leaderboard --experiment bm25_k1 --baseline bm25 -o board.html"""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "run":  # everything after 'run' belongs to Hydra
        return _run(argv[1:])
    parser = argparse.ArgumentParser(
        prog="harness",
        usage=USAGE,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Benchmark harness for neural IR and RAG.",
    )
    # prog: each subcommand's --help starts with its own usage ("usage: harness evaluate ..."), not the global one.
    sub = parser.add_subparsers(
        dest="command", prog="harness", metavar="{run,evaluate,datasets,plugins,leaderboard,compare,noise-curve,plot-sweep}"
    )
    sub.add_parser("run", help="run an experiment (Hydra overrides follow; -m for a sweep)")
    ev = sub.add_parser("evaluate", help="evaluate a TREC run file")
    ev.add_argument("run_file")
    ev.add_argument("--dataset", required=True, help="dataset id, e.g. msmarco-passage-mini/trec-dl-2019")
    ev.add_argument("--metrics", nargs="+", default=["ndcg@10", "mrr@10", "recall@100", "map"])
    ev.add_argument(
        "--binary-relevance-level",
        type=int,
        default=None,
        help="binary measures count rel >= this (default: 2 for TREC DL ids, else 1)",
    )
    ev.add_argument("--data-root", default=None)
    ev.add_argument("--json", action="store_true", help="print the mean metrics as JSON (full precision)")
    data = sub.add_parser("datasets", help="dataset commands")
    data_sub = data.add_subparsers(dest="datasets_command", required=True)
    check = data_sub.add_parser(
        "check", help="counts and problems of a dataset; exit 1 on errors", usage="harness datasets check [OVERRIDES...]"
    )
    check.add_argument(
        "overrides",
        nargs="*",
        help="dataset overrides as for harness run, e.g. dataset=files dataset.docs=docs.trec dataset.queries=topics.txt ...",
    )
    plugins = sub.add_parser("plugins", help="plugin commands")
    plugins_sub = plugins.add_subparsers(dest="plugins_command", required=True)
    listing = plugins_sub.add_parser("list", help="list plugins and their components")
    listing.add_argument("-v", "--verbose", action="store_true", help="also show each component's options")
    listing.add_argument("--trace", action="store_true", help="log every hook call (as HARNESS_TRACE_HOOKS=1)")
    new = plugins_sub.add_parser("new", help="scaffold an installable plugin package")
    new.add_argument("name", help="package and component name, a lowercase identifier (my_reranker)")
    from harness.cli.scaffold_templates import KINDS  # the component kinds' table and datasets

    new.add_argument("--kind", required=True, choices=list(KINDS))
    new.add_argument("--dir", default=".", help="folder to create the package in (default: here)")
    sweep_plot = sub.add_parser("plot-sweep", help="plot a metric against a swept parameter, from MLflow runs")
    sweep_plot.add_argument("--experiment", required=True)
    sweep_plot.add_argument("--x", required=True, help="swept parameter, e.g. peft.r")
    sweep_plot.add_argument("--series", default=None, help="one line per value of this parameter")
    sweep_plot.add_argument("--metric", default="ndcg@10")
    sweep_plot.add_argument("--tracking-uri", default=None, help="default: results/mlflow.db")
    sweep_plot.add_argument("--results-dir", default="results")
    sweep_plot.add_argument("--out", default=None, help="PNG path (default: results/<experiment>/<metric>_vs_<x>.png)")
    sweep_plot.add_argument("--log-x", action="store_true", help="log2 x axis (ranks)")
    from harness.reports.leaderboard.command import add_parser as add_leaderboard

    add_leaderboard(sub)
    from harness.reports.leaderboard.compare import add_parser as add_compare

    add_compare(sub)
    curve = sub.add_parser("noise-curve", help="curves, areas and plot of a noise-ratio sweep")
    curve.add_argument("folder", help="an experiment folder, e.g. results/noise_curve")
    curve.add_argument("--out", default=None, help="where to write curves.json and noise_curve.png")
    curve.add_argument(
        "--mlflow", action="store_true", help="also log the files as artifacts of a 'noise-curve' MLflow run (store in FOLDER/..)"
    )
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    from harness.errors import HarnessError

    try:
        if args.command == "evaluate":
            from harness.cli.commands import evaluate_file

            return evaluate_file(args)
        if args.command == "datasets":
            from harness.cli.datasets_command import check as check_dataset

            return check_dataset(args.overrides)
        if args.command == "noise-curve":
            from harness.cli.commands import noise_curve

            return noise_curve(args)
        if args.command == "plot-sweep":
            from harness.reports.sweep_plot import run as plot_sweep

            return plot_sweep(args)
        if args.command == "leaderboard":
            from harness.reports.leaderboard.command import run as leaderboard

            return leaderboard(args)
        if args.command == "compare":
            from harness.reports.leaderboard.compare import run as compare

            return compare(args)
        from harness.cli.commands import list_plugins, new_plugin

        if args.plugins_command == "new":
            return new_plugin(args.name, args.kind, args.dir)
        if args.trace:
            _enable_trace()
        return list_plugins(args.verbose)
    except HarnessError as exc:
        print(f"harness: error: {exc}", file=sys.stderr)
        return 2


def _enable_trace() -> None:
    """Hook tracing: the plugin manager logs each call when HARNESS_TRACE_HOOKS is set."""
    import logging
    import os

    os.environ["HARNESS_TRACE_HOOKS"] = "1"
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("harness.plugin_manager").setLevel(logging.INFO)


def _run(overrides: list[str]) -> int:
    import hydra

    if "--trace" in overrides:  # ours, not Hydra's: traced through the job's logging
        overrides = [o for o in overrides if o != "--trace"]
        _enable_trace()
    from harness.cli.commands import extra_search_path, task
    from harness.config import conf_dir, register_schema
    from harness.errors import HarnessError

    register_schema()
    from harness.cli.overrides import check_overrides, split_flags

    flags, overrides = split_flags(overrides)
    try:  # the plugins are loaded here first: a faulty one must be an error, not a traceback
        search_path = extra_search_path(overrides)
        check_overrides([*overrides, *search_path], conf_dir())  # a near miss gets a "did you mean"
    except HarnessError as exc:
        print(f"harness: error: {exc}", file=sys.stderr)
        return 2
    # Flags first, then every override in one run: argparse rejects overrides split by a flag (-m, --cfg job).
    sys.argv = ["harness run", *flags, *overrides, *search_path]
    hydra.main(config_path=str(conf_dir()), config_name="config", version_base="1.3")(task)()
    return 0


if __name__ == "__main__":
    sys.exit(main())
