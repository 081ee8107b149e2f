"""The incident queue in production: the bundle's linker, score's incident columns and
file (whatever the chunk size), the budget override, the one-line refusals, the service."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import assert_one_line_error, run_cli
from fastapi.testclient import TestClient

from soc_anomaly.errors import ModelError
from soc_anomaly.incidents import IncidentLinker
from soc_anomaly.model import AnomalyModel
from soc_anomaly.model.bundle import MANIFEST_FILE, load_bundle
from soc_anomaly.service import create_app

MANIFEST_PATH = MANIFEST_FILE


@pytest.fixture(scope="module")
def later_csv(scoring_world, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("incident_inputs") / "later.csv"
    scoring_world.later.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def no_linker_dir(scoring_world, tmp_path_factory) -> Path:
    """The fixture's bundle as an earlier version saved it: no linker, no manifest field."""
    model = AnomalyModel.load(scoring_world.model_dir)
    del model.linker_
    out = tmp_path_factory.mktemp("old_bundle") / "model"
    model.save(out)
    manifest = json.loads((out / MANIFEST_PATH).read_text())
    assert manifest.pop("incidents") is None
    (out / MANIFEST_PATH).write_text(json.dumps(manifest, indent=2))
    return out


def _score(capsys, model_dir: Path, *args: str) -> tuple[int, str, str]:
    return run_cli(capsys, "score", "--model-dir", str(model_dir), *args)


# --- the bundle --------------------------------------------------------------------------


def test_the_bundle_holds_a_fitted_linker_and_its_budget(scoring_world) -> None:
    model, manifest = load_bundle(scoring_world.model_dir)
    linker = model.linker_
    assert isinstance(linker, IncidentLinker)
    assert linker.n_staff_ == len(scoring_world.world.users) == 60
    assert manifest["incidents"]["incidents_per_day_per_500_staff"] == 10.0
    assert manifest["incidents"]["staff"] == 60
    assert manifest["incidents"]["per_day"] == linker.per_day() == 1
    assert set(linker.common_) == {"host", "address", "destination"}


def test_save_and_load_give_the_same_incidents(scoring_world, tmp_path: Path) -> None:
    model = AnomalyModel.load(scoring_world.model_dir)
    model.save(tmp_path / "again")
    again = AnomalyModel.load(tmp_path / "again")
    assert again.linker_.common_ == model.linker_.common_
    events = scoring_world.later
    scores = model.score(events)["score"]
    first, second = (m.linker_.run(events, scores) for m in (model, again))
    assert first.raised, "the fixture's attacks raise incidents"
    assert [i.to_dict() for i in first.raised] == [i.to_dict() for i in second.raised]
    assert np.array_equal(first.incident_ids, second.incident_ids)


def test_table_models_have_no_linker() -> None:
    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    model = AnomalyModel(detector="iforest", features="table").fit(table)
    assert model.linker_ is None


def test_an_edited_budget_in_the_manifest_is_refused(scoring_world, tmp_path: Path) -> None:
    model = AnomalyModel.load(scoring_world.model_dir)
    model.save(tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / MANIFEST_PATH).read_text())
    manifest["incidents"]["per_day"] = 40
    (tmp_path / "m" / MANIFEST_PATH).write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match=r"manifest field incidents\.per_day does not agree"):
        load_bundle(tmp_path / "m")
    manifest["incidents"] = "ten"
    (tmp_path / "m" / MANIFEST_PATH).write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="field incidents is a string; expected an object"):
        load_bundle(tmp_path / "m")


@pytest.mark.parametrize(
    ("attribute", "value", "pattern"),
    [
        ("common_", {"host": [1], "address": [], "destination": []}, r"common_\['host'\]"),
        ("common_", {"host": []}, "lists of host, address and destination"),
        ("n_staff_", 0, r"n_staff_: is 0"),
        ("candidate_score", 150.0, "bad parameter"),
        ("payload", "x", "unexpected attribute"),
    ],
)
def test_a_crafted_linker_is_refused(
    scoring_world, tmp_path: Path, attribute: str, value: object, pattern: str
) -> None:
    model = AnomalyModel.load(scoring_world.model_dir)
    model.save(tmp_path / "m")
    setattr(model.linker_, attribute, value)
    model.save(tmp_path / "crafted")  # save checks nothing: load must
    # What an attacker who can write the bundle does: the crafted model file, its hash
    # rewritten in the (valid) manifest.
    data = (tmp_path / "crafted" / "model.skops").read_bytes()
    (tmp_path / "m" / "model.skops").write_bytes(data)
    manifest = json.loads((tmp_path / "m" / MANIFEST_PATH).read_text())
    manifest["model_sha256"] = hashlib.sha256(data).hexdigest()
    (tmp_path / "m" / MANIFEST_PATH).write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match=pattern) as caught:
        load_bundle(tmp_path / "m")
    assert "\n" not in str(caught.value)


def test_an_old_bundle_without_a_linker_still_scores(capsys, no_linker_dir, later_csv, tmp_path):
    out = tmp_path / "out.csv"
    code, _, err = _score(capsys, no_linker_dir, "--input", str(later_csv), "--output", str(out))
    assert code == 0, err
    assert "incident" not in out.read_text().splitlines()[0]
    assert "Raised" not in err


# --- score -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "ocsf"])
def test_incidents_do_not_depend_on_the_chunk_size(
    capsys, scoring_world, later_csv, tmp_path: Path, fmt: str
) -> None:
    outputs = {}
    for rows in (257, 100_000):
        out, inc = tmp_path / f"out{rows}.csv", tmp_path / f"inc{rows}.jsonl"
        code, _, err = _score(
            capsys, scoring_world.model_dir, "--input", str(later_csv), "--output", str(out),
            "--chunk-rows", str(rows), "--incidents", str(inc), "--incidents-format", fmt,
        )  # fmt: skip
        assert code == 0, err
        summary = err.splitlines()[-1].split("; wrote")[0]
        outputs[rows] = (out.read_bytes(), inc.read_bytes(), summary)
    assert outputs[257] == outputs[100_000]
    frame = pd.read_csv(tmp_path / "out257.csv")
    assert list(frame.columns[-2:]) == ["incident_id", "incident_score"]
    joined = frame["incident_id"].notna()
    assert 0 < joined.sum() < len(frame)
    assert frame.loc[joined, "score"].min() >= 95.0  # candidates only
    assert frame.loc[~joined, "incident_score"].isna().all()
    lines = (tmp_path / "inc257.jsonl").read_bytes().decode().splitlines()
    assert lines
    if fmt == "jsonl":
        raised = [json.loads(line) for line in lines]
        ids = {r["incident_id"] for r in raised}
        assert ids <= set(frame.loc[joined, "incident_id"])
        for r in raised:  # an incident's events are the rows that carry its id
            assert r["events"] == np.flatnonzero(frame["incident_id"] == r["incident_id"]).tolist()
    assert outputs[257][2].startswith(f"Raised {len(lines)} incident(s) over ")


def test_the_stream_raises_what_the_linker_raises_on_the_whole(
    capsys, scoring_world, later_csv, tmp_path: Path
) -> None:
    inc = tmp_path / "inc.jsonl"
    code, _, err = _score(
        capsys, scoring_world.model_dir, "--input", str(later_csv), "--output",
        str(tmp_path / "o.jsonl"), "--chunk-rows", "500", "--incidents", str(inc),
    )  # fmt: skip
    assert code == 0, err
    model = AnomalyModel.load(scoring_world.model_dir)
    events = scoring_world.later
    whole = model.linker_.run(events, model.score(events)["score"])
    streamed = sorted((json.loads(x) for x in inc.read_text().splitlines()),
                      key=lambda r: r["incident_id"])  # fmt: skip
    expected = sorted((i.to_dict() for i in whole.raised), key=lambda r: r["incident_id"])
    assert [r["incident_id"] for r in streamed] == [r["incident_id"] for r in expected]
    assert [r["events"] for r in streamed] == [r["events"] for r in expected]


def test_the_budget_override(capsys, scoring_world, later_csv, tmp_path: Path) -> None:
    counts = {}
    for rate in (None, "500"):
        inc = tmp_path / f"inc{rate}.jsonl"
        extra = [] if rate is None else ["--incidents-per-day", rate]
        code, _, err = _score(
            capsys, scoring_world.model_dir, "--input", str(later_csv), "--output",
            str(tmp_path / "o.csv"), "--incidents", str(inc), *extra,
        )  # fmt: skip
        assert code == 0, err
        counts[rate] = len(inc.read_text().splitlines())
        summary = err.splitlines()[-1]
        per_day = 1 if rate is None else 60
        assert f"at {per_day} a day ({rate or 10} a day per 500 staff, 60 staff)" in summary
    assert counts["500"] > counts[None] > 0


def test_train_records_its_budget(capsys, tmp_path: Path) -> None:
    code, out, err = run_cli(
        capsys, "train", "--n-users", "40", "--days", "6", "--campaigns", "2",
        "--model-dir", str(tmp_path / "m"), "--incidents-per-day", "25",
    )  # fmt: skip
    assert code == 0, err
    assert "incident queue: 2 a day (25 per 500 staff, 40 staff)" in out
    manifest = json.loads((tmp_path / "m" / MANIFEST_PATH).read_text())
    assert manifest["incidents"]["incidents_per_day_per_500_staff"] == 25.0
    assert manifest["incidents"]["per_day"] == 2


# --- bad input: one line, exit 2, nothing written ----------------------------------------


@pytest.mark.parametrize("value", ["0", "-3", "nan", "inf"])
def test_a_budget_that_is_not_positive_is_one_line(capsys, tmp_path: Path, value: str) -> None:
    code, _, err = run_cli(
        capsys, "train", "--model-dir", str(tmp_path / "m"), "--incidents-per-day", value
    )
    assert_one_line_error(code, err, r"--incidents-per-day must be a positive, finite number")
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        (["--incidents-per-day", "0"], r"--incidents-per-day must be a positive number"),
        (["--incidents-per-day", "-inf"], r"--incidents-per-day must be a positive number"),
        (["--incidents", "{tmp}/missing/inc.jsonl"], r"--incidents folder .* does not exist"),
        (["--incidents", "{tmp}"], r"--incidents .* is a folder"),
        (["--incidents", "{tmp}/out.csv"], r"--incidents .* is the --output file"),
        (["--incidents", "-"], r"--incidents needs a file"),
        (["--incidents-format", "ocsf"], r"--incidents-format needs --incidents FILE"),
        (["--incidents", "{tmp}/i", "--incidents-format", "xml"], r"unknown --incidents-format"),
        (["--incidents", "{tmp}/i", "--engine", "dask"], r"incidents need --engine local"),
    ],
)
def test_bad_incident_flags_are_one_line(
    capsys, scoring_world, later_csv, tmp_path: Path, args: list[str], pattern: str
) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code, _, err = _score(
        capsys, scoring_world.model_dir, "--input", str(later_csv), "--output",
        str(tmp_path / "out.csv"), *args,
    )  # fmt: skip
    assert_one_line_error(code, err, pattern)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("flag", [["--incidents", "inc.jsonl"], ["--incidents-per-day", "5"]])
def test_incidents_from_a_bundle_without_a_linker_say_retrain(
    capsys, no_linker_dir, later_csv, tmp_path: Path, flag: list[str]
) -> None:
    flag = [str(tmp_path / f) if f.endswith(".jsonl") else f for f in flag]
    code, _, err = _score(
        capsys, no_linker_dir, "--input", str(later_csv), "--output", str(tmp_path / "o.csv"),
        *flag,
    )  # fmt: skip
    assert_one_line_error(code, err, r"without an incident linker.*retrain it")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_run_leaves_no_incident_file(capsys, scoring_world, tmp_path: Path) -> None:
    rows = json.loads(scoring_world.later.head(3000).to_json(orient="records", date_format="iso"))
    text = "\n".join(json.dumps(r) for r in rows) + "\n{not json\n"
    (tmp_path / "in.jsonl").write_text(text)
    code, _, err = _score(
        capsys, scoring_world.model_dir, "--input", str(tmp_path / "in.jsonl"), "--output",
        str(tmp_path / "o.csv"), "--incidents", str(tmp_path / "inc.jsonl"), "--chunk-rows", "500",
    )  # fmt: skip
    assert code == 2, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


# --- serve -------------------------------------------------------------------------------


def test_the_service_lists_the_incidents_of_a_request(scoring_world) -> None:
    events = scoring_world.later
    model = AnomalyModel.load(scoring_world.model_dir)
    expected = model.linker_.run(events, model.score(events)["score"]).raised
    assert expected
    body = json.loads(events.to_json(orient="records", date_format="iso"))
    order = np.random.default_rng(3).permutation(len(body))  # any order: linked by time
    client = TestClient(create_app(scoring_world.model_dir))
    answer = client.post("/v1/score", json=[body[i] for i in order])
    assert answer.status_code == 200, answer.text
    got = answer.json()["incidents"]
    assert [i["incident_id"] for i in got] == [i.incident_id for i in expected]
    for mine, theirs in zip(got, expected, strict=True):
        # Positions in the request, which was shuffled: back to the events' own rows.
        assert sorted(order[mine["events"]].tolist()) == sorted(theirs.events)
        assert mine["narrative"] == theirs.narrative
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert "incidents" in schema["ScoreResponse"]["properties"]
    assert "IncidentOut" in schema


def test_the_service_without_a_linker_lists_no_incidents(no_linker_dir, scoring_world) -> None:
    body = json.loads(scoring_world.later.head(50).to_json(orient="records", date_format="iso"))
    answer = TestClient(create_app(no_linker_dir)).post("/v1/score", json=body).json()
    assert "incidents" not in answer
    assert len(answer["results"]) == 50


def test_score_reads_every_column_the_linker_reads() -> None:
    from soc_anomaly.incidents.entities import ENTITY_COLUMNS
    from soc_anomaly.incidents.records import TALLY_COLUMNS
    from soc_anomaly.model.incident_scoring import LINKER_COLUMNS

    read = {c for cols in ENTITY_COLUMNS.values() for c in cols} | set(TALLY_COLUMNS) | {"time"}
    assert read <= set(LINKER_COLUMNS)
