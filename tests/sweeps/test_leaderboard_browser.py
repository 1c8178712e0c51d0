"""The HTML leaderboard in real headless Chromium: the table renders, sorting works, the plots are there."""

from __future__ import annotations

import random
import shutil

import pytest

from harness.evaluation import evaluate
from harness.reports.leaderboard import Entry, TestOptions, build_leaderboard
from harness.reports.leaderboard.html import page

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.slow,  # a real Chromium
    pytest.mark.skipif(
        not (CHROMIUM and DRIVER), reason="needs chromium and chromedriver (apt-get install chromium chromium-driver)"
    ),
]


def board_page(tmp_path):
    rng = random.Random(1)
    qrels = {f"q{i}": {f"d{j}": rng.choice([0, 1, 2]) for j in range(20)} for i in range(25)}
    entries = []
    for number, (name, skill) in enumerate((("bm25", 0.0), ("cross-lora-r8", 1.0), ("cross-full", 1.1))):
        run = {q: {d: rng.random() + skill * rel for d, rel in rels.items()} for q, rels in qrels.items()}
        result = evaluate(qrels, run, ["ndcg@10", "map"], 1)
        entries.append(
            Entry(
                name,
                "test",
                "synthetic",
                result.mean,
                result.per_query,
                latency=0.5 + number,
                trainable_params=[0, 73728, 22_700_000][number],
            )
        )
    board = build_leaderboard(entries, "ndcg@10", baseline="bm25")
    path = tmp_path / "board.html"
    path.write_text(page(board), encoding="utf-8")
    return path


@pytest.fixture()
def browser(tmp_path):
    pytest.importorskip("selenium")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def column(driver, index: int) -> list[str]:
    from selenium.webdriver.common.by import By

    return [
        row.find_elements(By.TAG_NAME, "td")[index].text
        for row in driver.find_elements(By.CSS_SELECTOR, "table.leaderboard tbody tr")
    ]


def test_table_sorts_and_plots_render(browser, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(board_page(tmp_path).as_uri())
    headers = browser.find_elements(By.CSS_SELECTOR, "table.leaderboard th")
    names = [h.text for h in headers]
    assert column(browser, 1)[-1] == "bm25 (baseline)"
    params = names.index("trainable params")
    headers[params].click()
    assert column(browser, 1) == ["bm25 (baseline)", "cross-lora-r8", "cross-full"]
    assert headers[params].get_attribute("aria-sort") == "ascending"
    headers[params].click()
    assert column(browser, 1) == ["cross-full", "cross-lora-r8", "bm25 (baseline)"]
    headers[names.index("system")].click()
    assert column(browser, 1) == sorted(column(browser, 1))
    images = browser.find_elements(By.CSS_SELECTOR, "section.plots img")
    assert {img.get_attribute("alt") for img in images} >= {"ndcg@10 vs latency", "ndcg@10 vs trainable parameters"}
    # Each figure decoded into a real bitmap.
    assert all(browser.execute_script("return arguments[0].naturalWidth", img) > 100 for img in images)
    for name in ("95% CI", "judged@10", "W/T/L", "Δ 95% CI"):
        assert name in names
    wtl = names.index("W/T/L")
    assert all(cell == "" or cell.count("/") == 2 for cell in column(browser, wtl))


def test_two_datasets_render_as_two_sorted_sections(browser, tmp_path):
    from selenium.webdriver.common.by import By

    from harness.reports.leaderboard.board import build_leaderboards

    rng = random.Random(4)
    entries = []
    for dataset in ("dl19", "dl20"):
        qrels = {f"{dataset}-q{i}": {f"d{j}": rng.choice([0, 1, 2]) for j in range(20)} for i in range(30)}
        for name, skill in (("bm25", 0.0), ("rerank", 3.0)):
            run = {q: {d: rng.random() + skill * rel for d, rel in rels.items()} for q, rels in qrels.items()}
            result = evaluate(qrels, run, ["ndcg@10"], 1)
            entries.append(
                Entry(
                    name,
                    "test",
                    dataset,
                    result.mean,
                    result.per_query,
                    stage="S" if name == "bm25" else None,
                    upstream="S" if name != "bm25" else None,
                )
            )
    path = tmp_path / "two.html"
    path.write_text(page(build_leaderboards(entries, "ndcg@10")), encoding="utf-8")
    browser.get(path.as_uri())
    sections = browser.find_elements(By.CSS_SELECTOR, "section.board")
    assert [s.find_element(By.TAG_NAME, "h2").text for s in sections] == ["dl19", "dl20"]
    for section in sections:
        assert section.find_element(By.CSS_SELECTOR, "p.baseline").text == "baseline: bm25, the first stage the others build on"
        cells = [td.text for td in section.find_elements(By.CSS_SELECTOR, "tbody tr td")]
        assert "< 0.001" in cells  # the reranker's p-values, below the tests' resolution
    # Sorting one section's table leaves the other's alone.
    second = sections[1].find_elements(By.CSS_SELECTOR, "th")
    before = [r.text for r in sections[0].find_elements(By.CSS_SELECTOR, "tbody tr")]
    second[[h.text for h in second].index("system")].click()
    assert [r.text for r in sections[0].find_elements(By.CSS_SELECTOR, "tbody tr")] == before


def test_suite_page_sorts_its_table_and_keeps_the_datasets_sections(browser, tmp_path):
    from selenium.webdriver.common.by import By

    from harness.reports.leaderboard.suite import build_suite
    from harness.reports.leaderboard.suite_render import page as suite_page
    from reports.test_leaderboard_suite import DATASETS, entries

    suite = build_suite("mine", DATASETS, entries(), "ndcg@10", options=TestOptions(resamples=500))
    path = tmp_path / "suite.html"
    path.write_text(suite_page(suite), encoding="utf-8")
    browser.get(path.as_uri())
    table = browser.find_element(By.CSS_SELECTOR, "table.leaderboard.suite")
    headers = table.find_elements(By.TAG_NAME, "th")
    names = [h.text for h in headers]
    assert names[2:5] == ["dl19", "dl20", "mine"] and "mean ndcg@10" in names

    def systems():
        return [r.find_elements(By.TAG_NAME, "td")[1].text for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")]

    assert systems()[0] == "bm25 + overlap"
    cell = table.find_element(By.CSS_SELECTOR, "tbody tr td:nth-child(3)").text
    assert cell.endswith("†‡")  # the dataset's markers, in the rendered cell
    headers[names.index("mean ndcg@10")].click()  # ascending: the best last
    assert systems()[-1] == "bm25 + overlap"
    headers[names.index("mean ndcg@10")].click()
    assert systems()[0] == "bm25 + overlap"
    sections = browser.find_elements(By.CSS_SELECTOR, "section.board")
    assert [s.find_element(By.TAG_NAME, "h2").text for s in sections] == list(DATASETS.values())
