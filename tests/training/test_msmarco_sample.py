"""`train=msmarco_sample`: the file read strictly and repaired, negatives mined without positives, the
teacher filter, both losses, resuming a killed training, bad input, and a tiny end-to-end run."""

import json
import subprocess
import sys

import pytest

from harness.errors import ConfigError, FormatError
from harness.data.msmarco_sample import passage_id, read

CAT = "A cat is a small domesticated carnivorous mammal with soft fur."
ROWS = [
    {
        "query_id": "q1",
        "query": "who led the manhattan project",
        "positive": ["The Manhattan Project was led by General Leslie Groves and Robert Oppenheimer."],
        "negatives": ["The Manhattan Project produced the first nuclear weapons during World War II.", CAT],
    },
    {
        "query_id": None,
        "query": "what is photosynthesis",
        "positive": ["Photosynthesis converts light energy into chemical energy in plants."],
        "negatives": ["Chlorophyll absorbs light most strongly in the blue and red wavelengths."],
    },
    {
        "query_id": "q3",
        "query": "eiffel tower location",
        "positive": ["Eiffel Tower. The Eiffel Tower is a wrought-iron lattice tower in Paris, France."],
        # raw MS MARCO mojibake in the second negative
        "negatives": ["Paris is the capital and most populous city of France.", "don\u00e2\u0080\u0099t climb the tower"],
    },
    {
        "query_id": "q4",
        "query": "great depression start",
        "positive": ["The stock market crashed in October 1929, starting the Great Depression."],
        "negatives": ["Dogs were domesticated from wolves thousands of years ago.", CAT],
    },
]


def write(path, rows=ROWS, extra=""):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + extra, encoding="utf-8")
    return path


def test_read_repairs_the_text_and_names_queries_and_passages(tmp_path):
    sample = read(write(tmp_path / "train.jsonl"))
    assert [q.query_id for q in sample.queries] == ["q1", "line2", "q3", "q4"]
    assert "don’t climb the tower" in sample.passages.values()  # FixEncoding repaired the mojibake
    assert not any("\u00e2\u0080" in t for t in sample.passages.values())
    q1 = sample.queries[0]
    assert q1.positives == (passage_id(ROWS[0]["positive"][0]),) and len(q1.negatives) == 2
    # The same text is one passage wherever it appears.
    assert sample.queries[0].negatives[1] == sample.queries[3].negatives[1] == passage_id(CAT)
    assert len(sample.passages) == 10


@pytest.mark.parametrize(
    "line,message",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object, got list"),
        ('{"query": "q"}', "missing key(s) positive"),
        ('{"query": "q", "positive": []}', "'positive' is empty"),
        ('{"query": "q", "positive": ["p", 3]}', "'positive' must be a list of non-empty strings"),
        ('{"query": "", "positive": ["p"]}', "'query' must be a non-empty string"),
        ('{"query_id": 7, "query": "q", "positive": ["p"]}', "'query_id' must be a non-empty string or null"),
        ('{"query_id": "q1", "query": "q", "positive": ["p"]}', "query_id 'q1' already appeared on line 1"),
        ("", "empty line"),
    ],
)
def test_a_bad_line_is_an_error_with_file_and_line(tmp_path, line, message):
    path = write(tmp_path / "train.jsonl", ROWS[:1], line + "\n")
    with pytest.raises(FormatError) as info:
        read(path)
    assert str(info.value).startswith(f"{path}:2: ") and message in str(info.value)


def test_bad_utf8_names_line_and_byte(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_bytes(json.dumps(ROWS[0]).encode() + b'\n{"query": "\xff", "positive": ["p"]}\n')
    with pytest.raises(FormatError, match=r"train.jsonl:2: not valid UTF-8: byte 0xff"):
        read(path)


def test_mining_leaves_out_positives_and_their_titled_copies(tmp_path):
    from harness.training.hard_negatives import mine

    sample = read(write(tmp_path / "train.jsonl"))
    q3 = sample.queries[2]
    texts = dict(
        sample.passages,
        untitled="The Eiffel Tower is a wrought-iron lattice tower in Paris, France.",
        a="tower one",
        b="tower two",
        c="tower three",
    )
    # BM25 put the positive and its copy without the title first: neither may be a negative.
    run = {"q3": {q3.positives[0]: 9.0, "untitled": 8.0, "a": 7.0, "b": 6.0, "c": 6.0}}
    pools = mine(sample, run, texts.__getitem__, 0, 2)
    assert pools["q3"] == ["a", "c"]  # ties by doc id descending, as trec_eval sorts
    assert mine(sample, run, texts.__getitem__, 1, 10)["q3"] == ["c", "b"]
    assert pools["q1"] == []


def test_bm25_mining_is_a_cached_first_stage_and_never_mines_a_positive(tmp_path, caplog):
    from harness.cache import StageCache
    from harness.components import Context
    from harness.training.hard_negatives import MiningCorpus, cached_pools, corpus_context, rankings
    from harness.plugin_manager import get_plugin_manager
    from harness.registry import ComponentRegistry

    sample = read(write(tmp_path / "train.jsonl"))
    registry = ComponentRegistry(get_plugin_manager(entry_point_plugins=False))

    def pools(cache_root):
        ctx = corpus_context(Context(cache=StageCache(cache_root), show_progress=False), None)
        retriever = registry.create("retriever", {"name": "bm25", "top_k": 20}, ctx)
        run, key = rankings(retriever, MiningCorpus(sample, None), sample)
        return ctx.cache, cached_pools(ctx.cache, key, sample, run, sample.passages.__getitem__, 0, 5)

    cache, first = pools(tmp_path / "cache")
    assert set(first) == {q.query_id for q in sample.queries}
    for query in sample.queries:
        assert not set(query.positives) & set(first[query.query_id])
    assert first["q1"][0] == passage_id(ROWS[0]["negatives"][0])  # the BM25-hardest non-positive
    again_cache, again = pools(tmp_path / "cache")
    assert again == first and again_cache.stats["retrieve.hit"] == 1 and again_cache.stats["mined-negatives.hit"] == 1
    assert cache.stats["bm25-index.miss"] == 1


def test_teacher_drops_negatives_scored_near_the_positive(tmp_path):
    import torch

    from harness.training.hard_negatives import teacher_filter

    sample = read(write(tmp_path / "train.jsonl", ROWS[:1]))
    q = sample.queries[0]
    near, far = q.negatives
    vectors = {q.positives[0]: [1.0, 0.0], near: [0.9, 0.1], far: [0.0, 1.0]}

    class Teacher:  # dot products: positive 1.0, near 0.9, far 0.0
        def encode(self, texts, query=False, desc=""):
            if query:
                return torch.tensor([[1.0, 0.0]] * len(texts))
            by_text = {sample.passages[p]: v for p, v in vectors.items()}
            return torch.tensor([by_text[t] for t in texts])

        def score_matrix(self, a, b):
            return a @ b.T

    text = sample.passages.__getitem__
    kept, counts = teacher_filter(Teacher(), sample, {"q1": [near, far]}, text, margin=0.0)
    assert kept["q1"] == [near, far] and counts == {"teacher_dropped": 0, "teacher_candidates": 2}
    kept, counts = teacher_filter(Teacher(), sample, {"q1": [near, far]}, text, margin=0.2)
    assert kept["q1"] == [far] and counts["teacher_dropped"] == 1


def _split(n_negatives=2):
    from harness.training.data import Example, Split

    texts = {
        "p": "the manhattan project was led by oppenheimer",
        "n1": "cats have soft fur",
        "n2": "paris is in france",
        "n3": "dogs bark",
    }
    train = [Example(f"q{i}", "who led the manhattan project", [("p", 1)], ["n1", "n2", "n3"]) for i in range(8)]
    return Split(train, []), texts.__getitem__


def _cross_encoder(tiny_model, tmp_path, peft="none"):
    from harness.cache import StageCache
    from harness.components import Context
    from harness.plugin_manager import get_plugin_manager
    from harness.registry import ComponentRegistry

    registry = ComponentRegistry(get_plugin_manager(entry_point_plugins=False))
    ctx = Context(cache=StageCache(tmp_path / "cache"), device="cpu", show_progress=False)
    reranker = registry.create("reranker", {"name": "cross_encoder", "model": tiny_model, "head": "classifier"}, ctx)
    values = {"name": "none", "mode": "full"} if peft == "none" else {"name": "lora", "r": 2}
    method = registry.create("peft", values, ctx)
    reranker.scorer.model = method.apply(reranker.scorer.model)
    return reranker.scorer


@pytest.mark.slow  # trains for epochs, beyond a tiny step
@pytest.mark.parametrize("loss,pairwise", [("listwise", "ranknet"), ("pairwise", "ranknet"), ("pairwise", "margin")])
def test_each_loss_lowers_the_training_loss(tiny_model, tmp_path, loss, pairwise):
    import torch

    from harness.training.msmarco_sample import SampleTrainConfig, _train, pairwise_loss
    from harness.training.loop import loss_of

    scorer = _cross_encoder(tiny_model, tmp_path)
    split, text = _split()
    groups = [(e.query, "p", ["n1", "n2"]) for e in split.train]

    def current():
        scorer.model.eval()
        with torch.no_grad():
            if loss == "listwise":
                return float(loss_of(scorer, groups, "listwise", text))
            return float(pairwise_loss(scorer, groups, text, pairwise, 1.0))

    before = current()
    config = SampleTrainConfig(
        loss=loss,
        pairwise=pairwise,
        n_negatives=2,
        batch_size=4,
        epochs=5,
        lr=1e-2,
        validation_fraction=0,
        warmup_fraction=0.1,
        checkpoint_every=0,
    )
    result = _train(scorer, split, text, config, None, False, None)
    assert result.steps == 10
    assert current() < 0.7 * before


@pytest.mark.slow  # trains for epochs, beyond a tiny step
def test_a_killed_training_resumes_from_its_checkpoint_to_the_same_weights(tiny_model, tmp_path, monkeypatch):
    import torch

    from harness.training.checkpoints import Checkpoint
    from harness.training.msmarco_sample import SampleTrainConfig, _train

    split, text = _split()
    config = SampleTrainConfig(n_negatives=2, batch_size=2, epochs=2, lr=1e-3, validation_fraction=0, checkpoint_every=2)
    whole = _cross_encoder(tiny_model, tmp_path / "a")
    uninterrupted = _train(whole, split, text, config, None, False, Checkpoint(tmp_path / "ck-a", 2))

    class Killed(Exception):
        pass

    saves = []
    original = Checkpoint.save

    def save_then_die(self, state):
        original(self, state)
        saves.append(state["step"])
        if state["step"] == 4:
            raise Killed()

    monkeypatch.setattr(Checkpoint, "save", save_then_die)
    killed = _cross_encoder(tiny_model, tmp_path / "b")
    with pytest.raises(Killed):
        _train(killed, split, text, config, None, False, Checkpoint(tmp_path / "ck-b", 2))
    assert saves == [2, 4]
    monkeypatch.setattr(Checkpoint, "save", original)

    fresh = _cross_encoder(tiny_model, tmp_path / "c")  # a new process: the model as loaded, not as trained
    resumed = _train(fresh, split, text, config, None, False, Checkpoint(tmp_path / "ck-b", 2))
    assert resumed.losses == uninterrupted.losses and resumed.steps == 8
    assert resumed.seconds >= torch.load(tmp_path / "ck-b" / "checkpoint.pt", weights_only=True)["seconds"] > 0
    for (name, a), (_, b) in zip(whole.model.named_parameters(), fresh.model.named_parameters()):
        assert torch.equal(a, b), name


def test_a_damaged_checkpoint_is_a_clear_error(tmp_path):
    from harness.training.checkpoints import Checkpoint
    from harness.errors import DataError

    checkpoint = Checkpoint(tmp_path, 5)
    checkpoint.path.write_bytes(b"not a checkpoint")
    with pytest.raises(DataError, match="cannot read the training checkpoint.*delete it"):
        checkpoint.load()


@pytest.mark.parametrize(
    "override,message",
    [
        ({"mine_lo": 30, "mine_hi": 30}, "train.mine_lo=30 must be below train.mine_hi=30"),
        ({"negatives": "given", "teacher": "bi_encoder"}, "train.teacher filters mined negatives"),
        ({"part": "generator"}, "train.part must be reranker"),
    ],
)
def test_inconsistent_options_are_clear_errors(override, message):
    from harness.training.msmarco_sample import SampleTrainConfig, check

    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("=", "=")):
        check(SampleTrainConfig(**override))


@pytest.mark.parametrize(
    "key,value,message",
    [
        ("loss", "pointwise", "train: key 'loss': 'pointwise' is not one of listwise, pairwise"),
        ("n_negatives", 0, "train: key 'n_negatives': 0 is out of range"),
        ("negatives", "some", "train: key 'negatives': 'some' is not one of mined, given, both"),
    ],
)
def test_out_of_bounds_options_name_the_key(key, value, message):
    from harness.training.msmarco_sample import SampleTrainConfig
    from harness.registry import build_config

    with pytest.raises(ConfigError) as info:
        build_config(SampleTrainConfig, {"source": "msmarco_sample", key: value}, "train")
    assert message in str(info.value)


def harness(*args, cwd, ok=True):
    out = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    if ok:
        assert out.returncode == 0, out.stderr[-4000:]
    return out


@pytest.mark.slow
def test_train_msmarco_sample_end_to_end(tiny_root, tiny_model, tmp_path):
    """Mine over the file + the (tiny) mini collection, train, rerank DL20, then hit the cache."""
    data = write(tmp_path / "train.jsonl")
    results = tmp_path / "results"
    common = [
        "dataset=msmarco-passage-mini/trec-dl-2020",
        "retriever=run",
        "reranker=cross_encoder",
        "reranker.head=classifier",
        f"reranker.model={tiny_model}",
        f"results_dir={results}",
        "peft=lora",
        "train=msmarco_sample",
        f"train.file={data}",
        "train.max_steps=2",
        "train.batch_size=2",
        "train.n_negatives=1",
        "train.mine_hi=5",
        "train.validation_fraction=0.25",
        "train.eval_every=1",
        "train.checkpoint_every=1",
        "train.negatives=both",
    ]
    first = harness(*common, "experiment_name=sample", cwd=tmp_path)
    [run_dir] = (results / "sample").iterdir()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["train_steps"] == 2 and metrics["mined_negatives"] > 0 and "ndcg@10" in metrics
    assert metrics["train_queries"] == 3 and metrics["validation_queries"] == 1
    meta = json.loads((run_dir / "adapter" / "metadata.json").read_text())
    assert meta["method"] == "lora" and meta["train"]["source"] == "msmarco_sample"
    assert "adapter.miss=1" in first.stderr and "bm25-index.miss=1" in first.stderr
    assert not list((results / "cache" / "train-checkpoints").iterdir())  # removed once the adapter is cached
    again = harness(*common, "experiment_name=again", cwd=tmp_path)
    assert "adapter.hit=1" in again.stderr


@pytest.mark.slow
def test_a_bad_file_is_a_clear_cli_error(tiny_root, tiny_model, tmp_path):
    data = write(tmp_path / "train.jsonl", ROWS[:2], '{"query": "q"}\n')
    out = harness(
        "retriever=run",
        "reranker=cross_encoder",
        f"reranker.model={tiny_model}",
        "peft=lora",
        "train=msmarco_sample",
        f"train.file={data}",
        "tracking=none",
        f"results_dir={tmp_path / 'r'}",
        cwd=tmp_path,
        ok=False,
    )
    assert out.returncode == 2 and f"{data}:3: missing key(s) positive" in out.stderr
    assert "Traceback" not in out.stderr
    missing = harness(
        "retriever=run",
        "reranker=cross_encoder",
        f"reranker.model={tiny_model}",
        "peft=lora",
        "train=msmarco_sample",
        f"train.file={tmp_path / 'nope.jsonl'}",
        "tracking=none",
        f"results_dir={tmp_path / 'r'}",
        cwd=tmp_path,
        ok=False,
    )
    assert missing.returncode == 2 and "nope.jsonl does not exist" in missing.stderr


@pytest.mark.parametrize("kind", ["bi_encoder", "late_interaction", "cross_encoder"])
def test_every_reranker_kind_trains_on_the_groups(kind, tiny_model, tmp_path):
    """Both losses run on each design; the training max length applies while training only."""
    from harness.cache import StageCache
    from harness.components import Context
    from harness.training.msmarco_sample import SampleTrainConfig, _train, training_length
    from harness.plugin_manager import get_plugin_manager
    from harness.registry import ComponentRegistry

    registry = ComponentRegistry(get_plugin_manager(entry_point_plugins=False))
    ctx = Context(cache=StageCache(tmp_path / "cache"), device="cpu", show_progress=False)
    reranker = registry.create("reranker", {"name": kind, "model": tiny_model}, ctx)
    scorer = reranker.scorer
    scorer.model = registry.create("peft", {"name": "lora", "r": 2}, ctx).apply(scorer.model)
    split, text = _split()
    field = "max_length" if kind == "cross_encoder" else "passage_max_length"
    before = getattr(scorer, field)
    for loss in ("listwise", "pairwise"):
        config = SampleTrainConfig(
            loss=loss, n_negatives=2, batch_size=4, max_steps=2, lr=1e-3, validation_fraction=0, checkpoint_every=0
        )
        with training_length(scorer, 8):
            assert getattr(scorer, field) == 8
            result = _train(scorer, split, text, config, None, False, None)
        assert result.steps == 2 and all(v == v for _, v in result.losses)
    assert getattr(scorer, field) == before


def test_the_teacher_filter_is_a_cached_stage(tiny_model, tmp_path):
    from harness.cache import StageCache
    from harness.components import Context
    from harness.training.hard_negatives import cached_teacher_filter
    from harness.plugin_manager import get_plugin_manager
    from harness.registry import ComponentRegistry

    sample = read(write(tmp_path / "train.jsonl"))
    pools = {q.query_id: list(q.negatives) for q in sample.queries}
    registry = ComponentRegistry(get_plugin_manager(entry_point_plugins=False))

    def run(margin):
        ctx = Context(cache=StageCache(tmp_path / "cache"), device="cpu", show_progress=False)
        teacher = registry.create("reranker", {"name": "bi_encoder", "model": tiny_model}, ctx)
        kept, counts = cached_teacher_filter(ctx.cache, "pools-key", teacher, sample, pools, sample.passages.__getitem__, margin)
        return ctx.cache.stats, kept, counts

    stats, kept, counts = run(-2.0)  # nothing scores above the positive + 2 (cosines): every negative kept
    assert kept == pools and counts["teacher_dropped"] == 0 and stats["teacher-filter.miss"] == 1
    stats, again, _ = run(-2.0)
    assert again == kept and stats["teacher-filter.hit"] == 1
    _, strict, counts = run(2.0)  # everything scores above the positive - 2: every negative dropped
    assert all(v == [] for v in strict.values()) and counts["teacher_dropped"] == counts["teacher_candidates"] == 7
