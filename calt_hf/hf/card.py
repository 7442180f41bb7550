"""The dataset card: ``README.md`` rendered from ``dataset_cards/`` with the run's facts and statistics.

The YAML front matter (``DatasetCardData``) carries what the Hub and ``datasets.load_dataset`` read:
``configs`` with the data files of each split, ``dataset_info`` with the features and split sizes,
size and task categories, tags, license and pretty name. The body says in words what the task is, how
it was generated and how to reproduce it, with a table of statistics and examples for every split.
"""

from __future__ import annotations

import platform
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from huggingface_hub import DatasetCard, DatasetCardData

from calt_hf import backends
from calt_hf.hf.description import DatasetDescription
from calt_hf.expanded import EXPANDED_COLUMNS
from calt_hf.hf.parquet import EMPTY, JSON, LIST, NESTED, STRING, columns_of, split_sizes, text_batches
from calt_hf.quality import Histogram
from calt_hf.files import read_statistics, write_atomically
from calt_hf.run_folder import DATA_DIR, EXPANDED_DIR, RunFolder

TEMPLATE = "calt_hf_dataset.md"
_SIZE_CATEGORIES = [
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
]
#: Papers the card cites (arXiv id, citation); their ``arxiv:`` tags make the Hub link them.
REFERENCES = [
    ("2506.08600", "CALT: A Library for Computer Algebra with Transformer"),
    ("2311.12904", "Kera et al., Learning to compute Gröbner bases"),
]
#: What order-free means for a generator that says it is order-free but not why (``order_free = True``).
ORDER_FREE_TEXT = "a list and any reordering of it count as one problem"
#: The libraries whose versions the card lists (those installed): calt_hf, every backend's, then the core's.
_CORE_VERSIONED = ("joblib", "datasets", "pyarrow", "huggingface-hub", "tokenizers")


def references(description: DatasetDescription) -> list[tuple[str, str]]:
    """The papers a card cites: calt_hf's own, then the problem's (each arXiv id once)."""
    cited = list(REFERENCES)
    cited += [reference for reference in description.references if reference[0] not in {arxiv for arxiv, _ in cited}]
    return cited


def size_category(examples: int) -> str:
    """The Hub's size category of a dataset with this many examples."""
    return next((label for bound, label in _SIZE_CATEGORIES if examples < bound), "n>1T")


def library_versions() -> dict[str, str]:
    """Versions of the libraries that made the data (those installed)."""
    versions = {"python": platform.python_version()}
    for name in ("calt_hf", *backends.distributions(), *_CORE_VERSIONED):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _statistics(folder: RunFolder, split: str) -> dict[str, Any] | None:
    path = folder.stats_file(split)
    if not path.exists():
        return None
    stats = read_statistics(path)
    rows = [("generation time (s)", stats["generation_time"])]
    for key, block in stats.items():
        if not (key.endswith("_stats") and isinstance(block, dict)):
            continue
        category = key[: -len("_stats")]
        if "mean" in block and not isinstance(block["mean"], dict):
            rows.append((category, block))
        else:
            rows.extend((f"{category} {metric}", values) for metric, values in block.items())
    return {
        "total_time": stats["total_time"],
        "samples_per_second": stats["samples_per_second"],
        "rows": rows,
        "errors": stats.get("errors"),
        "quality": stats.get("data_quality"),
    }


def _examples(folder: RunFolder, split: str, kinds: dict[str, str], count: int = 2) -> list[tuple[str, str]]:
    """The first rows of a split in the text form, escaped for a Markdown table."""
    rows = [row for batch in text_batches(folder, split, kinds, rows=count) for row in batch]
    return [(problem.replace("|", "\\|"), solution.replace("|", "\\|")) for problem, solution in rows]


def card_data(
    sizes: dict[str, tuple[int, int, int, int]], kinds: dict[str, str], description: DatasetDescription
) -> DatasetCardData:
    """The YAML front matter: configs, dataset_info, categories, tags, license, pretty name; ``sizes`` maps each
    split, in order, to its ``split_sizes``. ``dataset_info`` is written as ``datasets.DatasetInfosDict`` writes
    it, without importing ``datasets`` (tests/test_hf.py compares the two)."""
    splits = list(sizes)
    data = DatasetCardData(
        license=description.license,
        pretty_name=description.pretty_name,
        size_categories=[size_category(sum(size[0] for size in sizes.values()))],
        task_categories=description.task_categories,
        tags=description.tags + [f"arxiv:{arxiv}" for arxiv, _ in references(description)],
        configs=[
            {
                "config_name": "default",
                "data_files": [{"split": split, "path": f"{DATA_DIR}/{split}-*.parquet"} for split in splits],
            }
        ],
    )
    data["dataset_info"] = {
        "features": [{"name": column, **_YAML_FEATURES[kinds[column]]} for column in columns_of(kinds)],
        "splits": [{"name": s, "num_bytes": sizes[s][1], "num_examples": sizes[s][0]} for s in splits],
        "download_size": sum(size[2] for size in sizes.values()),
        "dataset_size": sum(size[1] for size in sizes.values()),
    }
    return data


#: Each column kind's feature in the card's ``dataset_info`` (``datasets``' YAML form of the features).
_YAML_FEATURES = {
    STRING: {"dtype": "string"},
    EMPTY: {"list": "string"},
    LIST: {"list": "string"},
    NESTED: {"list": {"list": "string"}},
    JSON: {"dtype": "json"},
}
#: Each kind's ``datasets`` feature as the card shows it (how to write it in Python).
_FEATURE_TEXT = {
    STRING: "Value('string')",
    EMPTY: "List(Value('string'))",
    LIST: "List(Value('string'))",
    NESTED: "List(List(Value('string')))",
    JSON: "Json()",
}


def render_card(
    save_dir: RunFolder | Path,
    splits: list[str],
    kinds: dict[str, str],
    description: DatasetDescription,
    images: dict[str, str] | None = None,
    token_lengths: dict[str, dict[str, Histogram]] | None = None,
) -> DatasetCard:
    """The dataset card of a packaged ``save_dir``; ``images`` maps a statistic to its figure's file name,
    ``token_lengths`` a split to its ``problem_tokens`` and ``solution_tokens`` histograms (shipped tokenizer)."""
    template = resources.files("calt_hf.dataset_cards").joinpath(TEMPLATE).read_text(encoding="utf-8")
    folder = RunFolder.of(save_dir)
    sizes = {split: split_sizes(folder, split) for split in splits}  # reads every row group: once per split
    split_rows = []
    order_free = None  # the sentence on order-free counts, once a split has them
    for split in splits:
        examples, arrow_bytes, _, shards = sizes[split]
        statistics = _statistics(folder, split)
        quality = (statistics or {}).get("quality") or {}
        lengths = {name: histogram.summary() for name, histogram in (token_lengths or {}).get(split, {}).items()}
        lengths.update(quality.get("lengths") or {})
        if "duplicates_order_free" in quality:
            order_free = description.order_free if isinstance(description.order_free, str) else ORDER_FREE_TEXT
        split_rows.append(
            {
                "name": split,
                "num_examples": examples,
                "num_bytes": arrow_bytes,
                "num_shards": shards,
                "statistics": statistics,
                "lengths": lengths,
                "examples": _examples(folder, split, kinds),
            }
        )
    return DatasetCard.from_template(
        card_data(sizes, kinds, description),
        template_str=template,
        pretty_name=description.pretty_name,
        summary=description.summary,
        problem_text=description.problem,
        solution_text=description.solution,
        method=description.method,
        features={column: _FEATURE_TEXT[kinds[column]] for column in columns_of(kinds)},
        settings=description.settings,
        command=description.command,
        versions=library_versions(),
        splits=split_rows,
        load_path=description.load_path,
        images=images or {},
        references=references(description),
        expanded=EXPANDED_COLUMNS[0] in kinds,
        expanded_dir=EXPANDED_DIR,
        order_free=order_free,
    )


def write_card(folder: RunFolder, card: DatasetCard) -> Path:
    """Write a rendered card (``render_card``) to the folder's ``README.md`` (through a temporary file)."""
    write_atomically(folder.card, str(card))
    return folder.card
