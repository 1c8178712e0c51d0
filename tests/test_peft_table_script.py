"""scripts/peft_table.py builds the PEFT acceptance table and plot from run folders."""

import json

from tests.script_loader import load_script as load


def load_script():
    return load("peft_table")


def write(folder, name, **metrics):
    (folder / name).mkdir(parents=True)
    (folder / name / "metrics.json").write_text(json.dumps(metrics))


def test_table_and_plot_from_run_folders(tmp_path):
    script = load_script()
    write(tmp_path, "bm25-dl2020", **{"ndcg@10": 0.4796, "mrr@10": 0.65})
    write(tmp_path, "cross_encoder-zeroshot-dl20", **{"ndcg@10": 0.5, "mrr@10": 0.66})
    write(
        tmp_path,
        "cross_encoder-lora-dl19-dl2020",
        **{"ndcg@10": 0.51, "mrr@10": 0.7, "trainable_parameters": 73728, "trainable_share": 0.0032, "train_step_seconds": 3.14},
    )
    text, bars = script.table(tmp_path)
    lines = text.splitlines()
    assert "| BM25 top-100 | - | - | 0.4796 | 0.6500 | | - | - | |" in lines
    assert "| cross_encoder | lora | 73,728 (0.32%) | 0.5100 | 0.7000 | 3.1 | - | - | - |" in lines
    assert "| cross_encoder | zero-shot | 0 | 0.5000 | 0.6600 | - | - | - | - |" in lines
    assert bars["cross_encoder lora"] == [0.51, None]
    script.plot(bars, tmp_path / "plot.png")
    assert (tmp_path / "plot.png").stat().st_size > 0
