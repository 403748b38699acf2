"""Run documents: what to_json writes, from_json reads back; a drifted file fails naming the file and the field."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import pytest

from tts_adapt.documents import Document
from tts_adapt.errors import UserError


class Span(NamedTuple):
    kernel: str
    rows: tuple[int, int]


@dataclass(frozen=True)
class Entry:
    name: str
    loss: float
    rank: int | None = None

    DERIVED = ("shown",)

    @property
    def shown(self) -> str:
        return f"{self.name}: {self.loss:.2f}"


@dataclass(frozen=True)
class Ranking(Document):
    KIND = "test-ranking"

    best: str
    entries: tuple[Entry, ...]
    spans: tuple[Span, ...] = ()
    by_name: dict[str, float] = field(default_factory=dict)
    done: bool = field(default=False, metadata={"json": "finished"})
    mode: Literal["fast", "slow"] = "fast"


RANKING = Ranking("ann", (Entry("ann", 0.25, 1), Entry("bob", 0.5)), (Span("k", (0, 4)),), {"ann": 0.25}, True)


def test_what_is_written_reads_back_the_same(tmp_path):
    data = RANKING.to_json()
    assert data["schema"] == "test-ranking" and data["schema_version"] == 1 and data["finished"] is True
    assert data["entries"][0] == {"name": "ann", "loss": 0.25, "rank": 1, "shown": "ann: 0.25"}
    assert data["spans"] == [{"kernel": "k", "rows": [0, 4]}]
    path = tmp_path / "ranking.json"
    path.write_text(RANKING.to_text(), encoding="utf-8")
    assert Ranking.read(path) == RANKING


@pytest.mark.parametrize("change, message", [
    (lambda d: d["entries"][1].update(loss="0.5"), "entries[1].loss must be a number, got \"0.5\""),
    (lambda d: d["entries"][0].pop("name"), "missing entries[0].name"),
    (lambda d: d.update(role="slot"), "unknown key role"),
    (lambda d: d["spans"][0].update(rows=[1]), "spans[0].rows must be a list of 2"),
    (lambda d: d.update(finished=1), "finished must be true or false"),
    (lambda d: d.update(mode="medium"), "mode must be one of fast, slow"),
    (lambda d: d.update(schema_version=2), "written by a newer tts-adapt"),
    (lambda d: d.update(schema="other"), "not a test-ranking document"),
])
def test_a_drifted_document_names_the_file_and_the_field(tmp_path, change, message):
    data = RANKING.to_json()
    change(data)
    path = tmp_path / "ranking.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(UserError, match=rf"^{path}: .*") as raised:
        Ranking.read(path)
    assert message in str(raised.value)


def test_a_document_from_before_its_schema_field_is_read(tmp_path):
    data = {key: value for key, value in RANKING.to_json().items() if key not in ("schema", "schema_version")}
    assert Ranking.from_json(data, "old.json") == RANKING


def test_missing_and_broken_files_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        Ranking.read(tmp_path / "absent.json")
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    with pytest.raises(UserError, match="broken.json: not a readable test-ranking document"):
        Ranking.read(tmp_path / "broken.json")
