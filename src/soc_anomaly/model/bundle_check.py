"""Validate a loaded model before any compiled code reads it.

skops rebuilds only trusted types, but a trusted type can still hold hostile
content: an IsolationForest whose ``estimators_features_`` point past the
input's columns makes the compiled forest walk read outside its arrays
(SIGSEGV), and a tree whose root is its own child never finishes. Anyone who
can write a bundle can also rewrite the SHA-256 in its manifest, so the hash
proves integrity, not origin (signing does: :mod:`soc_anomaly.model.signing`).

:func:`check_model` therefore runs right after ``skops.io.load`` and before the
model scores anything. It does two passes:

1. **Types.** Every object reachable from the model must be of a type listed
   here (the toolkit's classes, the scikit-learn estimators its detectors
   wrap, numbers, strings, numeric or string arrays, lists, tuples and dicts
   with string keys). Anything else is refused, even if skops trusts it by
   default, because nothing here would validate its content.
2. **Content.** One function per kind of object checks what scoring reads:
   shapes against the model's feature count, dtypes, finiteness, index ranges
   and orderings (:mod:`soc_anomaly.model.bundle_check_estimators` for the
   detectors, the scikit-learn objects inside them and the incident linker:
   its parameters in range, its common entities a bounded list of names per
   kind, its staff a positive count, nothing else in its state).

``sklearn.tree._tree.Tree`` stays trusted, with its content validated rather
than the tree rebuilt from arrays: its ``__setstate__`` only copies the node
array (after checking its dtype) and walks nothing, so a hostile tree is inert
until it is walked, and the checks here run before any walk. A rebuilt tree
would be built from the very arrays validated here, so it would add code, not
safety. Tree checks: node count equal to the node array's length, every inner
node's children after it (scikit-learn builds children after parents; this
also rules out cycles) and every node but the root the child of exactly one
node (a tree, not a graph that shares subtrees), leaves with both children
-1, split features within the tree's columns, finite thresholds, and a
``max_depth`` equal to the depth the nodes describe (the compiled walk takes
that many steps).

Every failure is a :class:`~soc_anomaly.errors.ModelError` naming the object
path (``detector_.forest_.estimators_[3].tree_``) and what is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from soc_anomaly.errors import ModelError

__all__ = ["BadModel", "check_model", "expect_array", "expect_number", "refuse"]

#: Deepest nesting of containers accepted in a model (a real one is under 10 deep).
MAX_DEPTH = 40


class BadModel(ModelError):
    """A model object whose content is unsafe or inconsistent."""


def refuse(where: str, what: str) -> BadModel:
    """The one-line error for the object at ``where``."""
    return BadModel(f"model.skops is not a valid model: {where}: {what}; refusing to load it")


def expect_array(
    value: Any,
    where: str,
    *,
    kind: str = "f",
    shape: tuple[int | None, ...] | None = None,
    finite: bool = False,
) -> np.ndarray:
    """``value`` as a numpy array of dtype kind(s) ``kind`` and ``shape`` (None: any length)."""
    if not isinstance(value, np.ndarray):
        raise refuse(where, f"is a {type(value).__name__}; expected an array")
    if value.dtype.kind not in kind:
        raise refuse(where, f"has dtype {value.dtype}; expected kind {kind!r}")
    if shape is not None:
        if value.ndim != len(shape) or any(
            want is not None and got != want for got, want in zip(value.shape, shape, strict=True)
        ):
            want_text = "x".join("n" if s is None else str(s) for s in shape)
            raise refuse(where, f"has shape {value.shape}; expected {want_text}")
    if finite and value.dtype.kind in "fc" and not np.isfinite(value).all():
        raise refuse(where, "holds a NaN or infinite value; expected finite numbers")
    return value


def expect_number(
    value: Any,
    where: str,
    *,
    integer: bool = False,
    low: float | None = None,
    high: float | None = None,
) -> float:
    """``value`` as a finite number (an integer if ``integer``) within [low, high]."""
    kinds: tuple[type, ...] = (
        (int, np.integer) if integer else (int, float, np.integer, np.floating)
    )
    if isinstance(value, bool | np.bool_) or not isinstance(value, kinds):
        expected = "an integer" if integer else "a number"
        raise refuse(where, f"is {type(value).__name__}; expected {expected}")
    number = float(value)
    if not np.isfinite(number):
        raise refuse(where, f"is {number}; expected a finite number")
    if (low is not None and number < low) or (high is not None and number > high):
        raise refuse(where, f"is {value}; expected a value in [{low}, {high}]")
    return number


# -- pass 1: types --------------------------------------------------------------

_SCALARS = (type(None), bool, int, float, str, np.bool_, np.integer, np.floating, np.str_)


def _allowed_classes() -> dict[type, Callable[[Any], dict[str, Any]]]:
    """Class -> how to list its content for the type walk."""
    from soc_anomaly.model.bundle_check_estimators import estimator_classes
    from soc_anomaly.model.fitted import AnomalyModel

    def state(obj: Any) -> dict[str, Any]:
        return dict(vars(obj))

    classes: dict[type, Callable[[Any], dict[str, Any]]] = {AnomalyModel: state}
    for cls in estimator_classes():
        classes[cls] = state
    from sklearn.tree._tree import Tree

    # A Tree's content is arrays and integers, checked by the forest's checks.
    classes[Tree] = lambda tree: {}
    return classes


def _check_types(root: Any) -> None:
    """Refuse any object outside the types a model may hold (iteratively, depth-bounded)."""
    from sklearn.utils import Bunch

    classes = _allowed_classes()
    seen: set[int] = set()
    stack: list[tuple[Any, str, int]] = [(root, "model", 0)]
    while stack:
        obj, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise refuse(where, f"is nested more than {MAX_DEPTH} deep")
        if isinstance(obj, _SCALARS):
            continue
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            if obj.dtype.kind == "O":
                bad = next((v for v in obj.flat if not isinstance(v, str | type(None))), None)
                if bad is not None:
                    raise refuse(where, f"holds a {type(bad).__name__}; expected text")
            elif obj.dtype.kind not in "biufU":
                raise refuse(where, f"has dtype {obj.dtype}; expected numbers or text")
            continue
        if type(obj) in (list, tuple):
            stack.extend((v, f"{where}[{i}]", depth + 1) for i, v in enumerate(obj))
            continue
        if type(obj) in (dict, Bunch):
            for key, value in obj.items():
                if not isinstance(key, str):
                    raise refuse(where, f"has a key of type {type(key).__name__}; expected text")
                stack.append((value, f"{where}[{key!r}]", depth + 1))
            continue
        content = classes.get(type(obj))
        if content is None:
            cls = type(obj)
            raise refuse(where, f"is a {cls.__module__}.{cls.__qualname__}, not a model part")
        stack.extend((v, f"{where}.{k}", depth + 1) for k, v in content(obj).items())


# -- pass 2: content -------------------------------------------------------------


def _check_calibrator(cal: Any, where: str) -> None:
    from soc_anomaly.detectors.calibration import ScoreCalibrator

    if type(cal) is not ScoreCalibrator:
        raise refuse(where, f"is a {type(cal).__name__}; expected a ScoreCalibrator")
    knots = expect_array(cal.knots_, f"{where}.knots_", shape=(None,), finite=True)
    levels = expect_array(cal.levels_, f"{where}.levels_", shape=(len(knots),), finite=True)
    if len(knots) == 0:
        raise refuse(f"{where}.knots_", "is empty; expected at least one knot")
    if (np.diff(knots) <= 0).any():
        raise refuse(f"{where}.knots_", "is not strictly increasing")
    if (np.diff(levels) <= 0).any() or levels[0] <= 0 or levels[-1] >= 100:
        raise refuse(f"{where}.levels_", "is not strictly increasing within (0, 100)")
    for name in ("scale_high_", "scale_low_"):
        if expect_number(getattr(cal, name), f"{where}.{name}") <= 0:
            raise refuse(f"{where}.{name}", "is not positive")


def _check_text_vector(value: Any, where: str, *, unique: bool = True) -> np.ndarray:
    arr = expect_array(value, where, kind="UO", shape=(None,))
    if arr.dtype.kind == "O" and not all(isinstance(v, str) for v in arr):
        raise refuse(where, "holds a value that is not text")
    if unique and len(set(arr.tolist())) != len(arr):
        raise refuse(where, "holds a value twice; expected distinct values")
    return arr


def _check_sorted_keys(value: Any, where: str, bound: int) -> np.ndarray:
    keys = expect_array(value, where, kind="i", shape=(None,))
    if len(keys) and (keys[0] < 0 or keys[-1] >= bound or (np.diff(keys) <= 0).any()):
        raise refuse(where, f"is not sorted distinct keys in [0, {bound})")
    return keys


def _check_entity_features(est: Any, where: str) -> None:
    from soc_anomaly.features.catalog import FEATURES
    from soc_anomaly.features.columns import TEXT_COLUMNS
    from soc_anomaly.features.deviation import LEVELS
    from soc_anomaly.features.peers import PeerTables
    from soc_anomaly.model.bundle_check_sequences import check_sequences

    for name in ("min_history", "beacon_intervals", "min_beacon_intervals"):
        expect_number(getattr(est, name), f"{where}.{name}", integer=True, low=1, high=10**6)
    for name in ("prior_weight", "min_travel_km"):
        expect_number(getattr(est, name), f"{where}.{name}", low=0)
    vocab = est.vocab_
    if not isinstance(vocab, dict) or set(vocab) != set(TEXT_COLUMNS):
        raise refuse(f"{where}.vocab_", f"expected one vocabulary for each of {TEXT_COLUMNS}")
    sizes = {k: len(_check_text_vector(v, f"{where}.vocab_[{k!r}]")) for k, v in vocab.items()}
    n_users = sizes["user"]
    seen = est.seen_
    if not isinstance(seen, dict) or set(seen) != {
        "src_country",
        "device_id",
        "src_ip",
        "dst_host",
    }:
        raise refuse(f"{where}.seen_", "expected the first-seen keys of four columns")
    for name, keys in seen.items():
        _check_sorted_keys(keys, f"{where}.seen_[{name!r}]", max(n_users, 1) * (sizes[name] + 1))
    tables = est.user_tables_
    if not isinstance(tables, dict):
        raise refuse(f"{where}.user_tables_", "expected a dict of arrays")
    for name in ("hour_rarity", "weekday_rarity"):
        width = 24 if name == "hour_rarity" else 7
        expect_array(tables.get(name), f"{where}.user_tables_[{name!r}]",
                     shape=(n_users + 1, width), finite=True)  # fmt: skip
    for name in ("bytes_in_loc", "bytes_in_scale", "bytes_out_loc", "bytes_out_scale",
                 "daily_dst_usual", "out24_median"):  # fmt: skip
        expect_array(tables.get(name), f"{where}.user_tables_[{name!r}]", shape=(n_users + 1,))
    places = est.places_
    if not isinstance(places, tuple) or len(places) != 3:
        raise refuse(f"{where}.places_", "expected (offsets, latitudes, longitudes)")
    offsets = expect_array(places[0], f"{where}.places_[0]", kind="i", shape=(n_users + 1,))
    n_places = int(offsets[-1]) if len(offsets) else 0
    if offsets[0] != 0 or (np.diff(offsets) < 0).any():
        raise refuse(f"{where}.places_[0]", "is not non-decreasing offsets from 0")
    for i in (1, 2):
        expect_array(places[i], f"{where}.places_[{i}]", shape=(n_places,), finite=True)
    peers = est.peers_
    if type(peers) is not PeerTables:
        raise refuse(f"{where}.peers_", f"is a {type(peers).__name__}; expected PeerTables")
    _check_peers(peers, f"{where}.peers_", sizes["dst_host"])
    expect_number(est.n_training_events_, f"{where}.n_training_events_", integer=True, low=1)
    _check_text_vector(est.hosts_, f"{where}.hosts_")
    check_sequences(est, where, n_users)
    sketch = expect_array(est.deviation_sketch_, f"{where}.deviation_sketch_",
                          shape=(len(FEATURES), len(LEVELS)))  # fmt: skip
    if np.isnan(sketch).any():
        raise refuse(f"{where}.deviation_sketch_", "holds NaN")


def _check_peers(peers: Any, where: str, n_dst: int) -> None:
    n_groups = len(_check_text_vector(peers.departments, f"{where}.departments")) + 1
    n_members = len(_check_text_vector(peers.members, f"{where}.members"))
    dept = expect_array(peers.member_dept, f"{where}.member_dept", kind="i", shape=(n_members,))
    if len(dept) and (dept.min() < 0 or dept.max() >= n_groups - 1):
        raise refuse(f"{where}.member_dept", f"holds a department outside [0, {n_groups - 1})")
    keys = _check_sorted_keys(peers.dst_keys, f"{where}.dst_keys", n_groups * (n_dst + 1))
    expect_array(peers.dst_users, f"{where}.dst_users", kind="i", shape=(len(keys),))
    expect_array(peers.group_size, f"{where}.group_size", kind="i", shape=(n_groups,))
    for name in ("bytes_out_loc", "bytes_out_scale"):
        expect_array(getattr(peers, name), f"{where}.{name}", shape=(n_groups,))


def _check_seed_columns(est: Any, where: str) -> None:
    n = len(_check_text_vector(est.home_users_, f"{where}.home_users_"))
    for name in ("home_lat_", "home_lon_"):
        expect_array(getattr(est, name), f"{where}.{name}", shape=(n,))
    expect_array(est.common_places_, f"{where}.common_places_", shape=(None, 2))


def _check_anomaly_model(model: Any) -> None:
    from soc_anomaly.detectors import get_detector
    from soc_anomaly.features import EntityFeatures
    from soc_anomaly.features.seed_columns import SeedColumns
    from soc_anomaly.model.bundle_check_estimators import check_detector, check_linker

    try:
        model.check_params()
        spec = get_detector(model.detector)
    except Exception as exc:  # a hostile parameter may fail in any way
        raise refuse("model", f"has a bad parameter ({exc})") from None
    if model.detector != spec.name:
        raise refuse("model.detector", f"is {model.detector!r}; expected {spec.name!r}")
    names = model.feature_names_
    if type(names) is not list or not names or not all(isinstance(c, str) for c in names):
        raise refuse("model.feature_names_", "expected a non-empty list of column names")
    d = len(names)
    featurizer = model.featurizer_
    expected = {"entity": EntityFeatures, "seed": SeedColumns, "table": type(None)}
    if type(featurizer) is not expected[model.features]:
        raise refuse("model.featurizer_", f"is a {type(featurizer).__name__}, not the "
                     f"featuriser of {model.features} features")  # fmt: skip
    if featurizer is not None:
        (_check_entity_features if model.features == "entity" else _check_seed_columns)(
            featurizer, "model.featurizer_"
        )
        out = [str(c) for c in featurizer.get_feature_names_out()]
        # The featuriser's output, or the columns of it the model reads (feature_cols).
        if [c for c in out if c in set(names)] != names or len(set(names)) != d:
            raise refuse("model.feature_names_", "differ from the featuriser's output")
    for name in ("scaler_mean_", "baseline_mean_", "baseline_std_"):
        expect_array(getattr(model, name), f"model.{name}", shape=(d,), finite=True)
    scale = expect_array(model.scaler_scale_, "model.scaler_scale_", shape=(d,), finite=True)
    if (scale <= 0).any():
        raise refuse("model.scaler_scale_", "holds a value that is not positive")
    expect_number(model.threshold_, "model.threshold_")
    _check_calibrator(model.calibrator_, "model.calibrator_")
    if not isinstance(model.training_, dict):
        raise refuse("model.training_", "expected a dict")
    check_detector(model.detector_, "model.detector_", d, spec.cls)
    # A model saved before bundles held a linker has none: it scores without incidents.
    linker = getattr(model, "linker_", None)
    if linker is not None:
        if featurizer is None:
            raise refuse("model.linker_", "is set on a table model; expected none")
        check_linker(linker, "model.linker_")


def check_model(model: Any) -> None:
    """Refuse a loaded model holding an unexpected type or inconsistent content.

    Parameters
    ----------
    model : AnomalyModel
        What ``skops.io.load`` returned, before anything scores with it.

    Raises
    ------
    soc_anomaly.errors.ModelError
        Naming the object and what is wrong with it.
    """
    from soc_anomaly.model.fitted import AnomalyModel

    if type(model) is not AnomalyModel:
        raise refuse("model", f"is a {type(model).__name__}; expected an AnomalyModel")
    try:
        _check_types(model)
        _check_anomaly_model(model)
    except ModelError:
        raise
    except AttributeError as exc:
        raise refuse("model", f"lacks a fitted attribute ({exc})") from None
    except Exception as exc:  # content of a form no check expected (a str for an array, ...)
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise refuse("model", f"has content of an unexpected form ({type(exc).__name__}: "
                     f"{first[:200]})") from None  # fmt: skip
