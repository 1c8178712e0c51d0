"""The ``harness`` command. Imports stay inside the subcommands so ``--help`` is instant."""

from __future__ import annotations

import argparse
import sys

USAGE = """harness run [HYDRA OVERRIDES...]     run one experiment, or a sweep with -m
harness evaluate RUN --dataset ID     evaluate any TREC run file against a dataset's qrels
harness plugins list [-v]             installed plugins and the components they register
harness noise-curve FOLDER            RAG rates vs noise ratio of a sweep: curves.json + plot"""

EPILOG = """examples:
  harness run                                          # BM25 on msmarco-passage-mini DL19
  harness run dataset=msmarco-passage-mini/trec-dl-2020 retriever=run
  harness run -m retriever.k1=0.6,0.9,1.2              # a sweep: one MLflow run per job
  harness run --cfg job                                # print the composed config
  harness evaluate results/default/bm25-*/run.trec --dataset msmarco-passage-mini/trec-dl-2019"""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "run":  # everything after 'run' belongs to Hydra
        return _run(argv[1:])
    parser = argparse.ArgumentParser(prog="harness", usage=USAGE, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     description="Benchmark harness for neural IR and RAG.")
    sub = parser.add_subparsers(dest="command", metavar="{run,evaluate,plugins,noise-curve}")
    sub.add_parser("run", help="run an experiment (Hydra overrides follow; -m for a sweep)")
    ev = sub.add_parser("evaluate", help="evaluate a TREC run file")
    ev.add_argument("run_file")
    ev.add_argument("--dataset", required=True, help="dataset id, e.g. msmarco-passage-mini/trec-dl-2019")
    ev.add_argument("--metrics", nargs="+", default=["ndcg@10", "mrr@10", "recall@100", "map"])
    ev.add_argument("--binary-relevance-level", type=int, default=None,
                    help="binary measures count rel >= this (default: 2 for TREC DL ids, else 1)")
    ev.add_argument("--data-root", default=None)
    plugins = sub.add_parser("plugins", help="plugin commands")
    plugins_sub = plugins.add_subparsers(dest="plugins_command", required=True)
    listing = plugins_sub.add_parser("list", help="list plugins and their components")
    listing.add_argument("-v", "--verbose", action="store_true", help="also show each component's options")
    curve = sub.add_parser("noise-curve", help="curves, areas and plot of a noise-ratio sweep")
    curve.add_argument("folder", help="an experiment folder, e.g. results/noise_curve")
    curve.add_argument("--out", default=None, help="where to write curves.json and noise_curve.png")
    curve.add_argument("--mlflow", action="store_true",
                       help="also log the files as artifacts of a 'noise-curve' MLflow run (store in FOLDER/..)")
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    from harness.errors import HarnessError

    try:
        if args.command == "evaluate":
            from harness.commands import evaluate_file

            return evaluate_file(args)
        if args.command == "noise-curve":
            from harness.commands import noise_curve

            return noise_curve(args)
        from harness.commands import list_plugins

        return list_plugins(args.verbose)
    except HarnessError as exc:
        print(f"harness: error: {exc}", file=sys.stderr)
        return 2


def _run(overrides: list[str]) -> int:
    import hydra

    from harness.commands import extra_search_path, task
    from harness.config import conf_dir, register_schema

    register_schema()
    sys.argv = ["harness run", *extra_search_path(overrides), *overrides]
    hydra.main(config_path=str(conf_dir()), config_name="config", version_base="1.3")(task)()
    return 0


if __name__ == "__main__":
    sys.exit(main())
