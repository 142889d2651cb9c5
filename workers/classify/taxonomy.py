"""The intent taxonomy as data: categories of intents with descriptions, read from a JSON file."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

CODE_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TAXONOMY_FILE = "workers/classify/taxonomies/bitext.json"


class Intent(BaseModel):
    """One thing a customer can want, with the description the model reads."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    description: str = Field(min_length=1)


class Category(BaseModel):
    """A group of intents."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    intents: tuple[Intent, ...] = Field(min_length=1)


class Taxonomy(BaseModel):
    """The intents a classifier may answer with, each in exactly one category."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    version: str
    source: str = ""
    categories: tuple[Category, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _intents_are_unique(self) -> Taxonomy:
        names = [intent.name for category in self.categories for intent in category.intents]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"intents listed more than once: {duplicates}")
        return self

    @classmethod
    def load(cls, path: str | Path = DEFAULT_TAXONOMY_FILE) -> Taxonomy:
        """Read and validate a taxonomy file (relative to the code root or absolute); fails at cold start."""
        resolved = Path(path)
        if not resolved.is_absolute():
            resolved = CODE_ROOT / resolved
        return cls.model_validate_json(resolved.read_text(encoding="utf-8"))

    @cached_property
    def _category_by_intent(self) -> dict[str, str]:
        return {intent.name: category.name for category in self.categories for intent in category.intents}

    @property
    def intent_names(self) -> tuple[str, ...]:
        """Every intent, in file order."""
        return tuple(self._category_by_intent)

    @property
    def category_names(self) -> tuple[str, ...]:
        """Every category, in file order."""
        return tuple(category.name for category in self.categories)

    def category_of(self, intent: str) -> str:
        """The category an intent belongs to; KeyError for an intent outside the taxonomy."""
        return self._category_by_intent[intent]

    def describe(self) -> str:
        """The taxonomy as prompt text: one ``intent: description`` line per intent, under its category."""
        lines: list[str] = []
        for category in self.categories:
            lines.append(f"Category {category.name}:")
            lines.extend(f"- {intent.name}: {intent.description}" for intent in category.intents)
        return "\n".join(lines)
