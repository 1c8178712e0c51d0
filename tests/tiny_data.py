"""The tiny msmarco-passage-mini written by the tests (same file names as the real one)."""

from __future__ import annotations

from pathlib import Path

REAL_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

PASSAGES = {
    "1": "The Manhattan Project produced the first nuclear weapons during World War II.",
    "2": "Nuclear weapons were first tested in the Trinity test in New Mexico in 1945.",
    "3": "A cat is a small domesticated carnivorous mammal with soft fur.",
    "4": "The Manhattan Project was led by General Leslie Groves and Robert Oppenheimer.",
    "5": "Photosynthesis converts light energy into chemical energy in plants.",
    "6": "Chlorophyll absorbs light most strongly in the blue and red wavelengths.",
    "7": "The Eiffel Tower is a wrought-iron lattice tower in Paris, France.",
    "8": "Paris is the capital and most populous city of France.",
    "9": "Dogs were domesticated from wolves thousands of years ago.",
    "10": "The stock market crashed in October 1929, starting the Great Depression.",
}
TOPICS = {
    "101": "who led the manhattan project",
    "102": "how does photosynthesis work",
    "103": "eiffel tower location",
    "104": "great depression start",
}
# Graded qrels 0..3 as TREC DL; query 104 is judged, 105 only in qrels.
QRELS = [
    ("101", "4", 3),
    ("101", "1", 2),
    ("101", "2", 1),
    ("101", "3", 0),
    ("102", "5", 3),
    ("102", "6", 1),
    ("103", "7", 2),
    ("103", "8", 1),
    ("104", "10", 2),
]
RUN = [
    ("101", "1", 12.0),
    ("101", "4", 11.0),
    ("101", "2", 9.5),
    ("102", "6", 8.0),
    ("102", "5", 7.5),
    ("103", "8", 6.0),
    ("103", "7", 5.5),
    ("104", "9", 1.0),
]


def write_mini(root: Path) -> Path:
    """Write a miniature msmarco-passage-mini (same file names as the real one) under ``root``."""
    folder = root / "msmarco-passage-mini"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "collection.tsv").write_text("".join(f"{pid}\t{text}\n" for pid, text in PASSAGES.items()))
    for short in ("19", "20"):
        topics = "topics.dl19-passage.txt" if short == "19" else "topics.dl20.txt"
        (folder / topics).write_text("".join(f"{qid}\t{text}\n" for qid, text in TOPICS.items()))
        (folder / f"qrels.dl{short}-passage.txt").write_text("".join(f"{q} 0 {d} {r}\n" for q, d, r in QRELS))
        (folder / f"run.dl{short}.bm25-top100.trec").write_text(
            "".join(f"{q} Q0 {d} {i} {s} bm25\n" for i, (q, d, s) in enumerate(RUN, 1))
        )
    return root
