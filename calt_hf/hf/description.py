"""What a dataset card says that the files cannot (kept free of heavy imports: the core uses it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class DatasetDescription:
    """What the card says that the files cannot: the task in words, the settings, the reproducing command."""

    pretty_name: str = "Computer algebra dataset"
    summary: str = "A dataset of computer algebra problems and their solutions, generated with calt_hf."
    problem: str = "see the examples below"
    solution: str = "see the examples below"
    order_free: str | None = None  # why the order of a problem's list does not matter (``Problem.order_free``)
    method: str | None = None  # how the samples were drawn, when a method from the literature (``Problem.method``)
    references: list[tuple[str, str]] = field(default_factory=list)  # (arXiv id, citation) beside calt_hf's own
    settings: dict[str, Any] = field(default_factory=dict)
    command: str = "(generated through the Python API; no command recorded)"
    license: str | None = None  # None: the card has no license line (the user's choice, not ours)
    number_tokens: str = "auto"  # the shipped tokenizer's numbers: auto | whole | digits (calt_hf/hf/tokenizer.py)
    tags: list[str] = field(default_factory=lambda: ["mathematics", "computer-algebra", "symbolic", "calt"])
    task_categories: list[str] = field(default_factory=lambda: ["text-generation"])
    load_path: str = "path/to/this/folder"
