"""Read Keras model files as data: JSON configs, ``.h5``/``.hdf5``, ``.keras`` archives, TF.js
``model.json`` and a SavedModel's ``keras_metadata.pb``.

Nothing is deserialized: no ``load_model``, no ``model_from_json``, no unpickling, no Lambda
bytecode. Archives are read member by member in memory, only the members Keras writes, each
within a size limit, so zip bombs and path tricks have nothing to work with. HDF5 files are
read with h5py, imported only when one is linted.
"""

from __future__ import annotations

import codecs
import dataclasses
import io
import json
import lzma
import math
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError, one_line
from .isolation import run_isolated
from .keras_config import ConfigError, LayerSpec, bare_model_config, flatten, is_model_config

# Members of a .keras archive and their size limits; an archive member that expands past its
# limit (or 200x its compressed size) is refused unread.
ARCHIVE_MEMBERS = {"config.json": 64 << 20, "metadata.json": 1 << 20,
                   "model.weights.h5": (2 << 30) - 1}
MAX_EXPANSION = 200
BN_CLASSES = frozenset({"BatchNormalization", "SyncBatchNormalization"})
BN_ROLES = ("gamma", "beta", "moving_mean", "moving_variance")
# A BN layer's vectors have one value per channel; no real layer has millions.
MAX_CHANNELS = 1 << 20
_ITERATIONS = re.compile(r"(^|/)(iter|iterations|iteration)(:0)?\Z")


# What h5py raises for a damaged file: bad superblocks and heaps (OSError, RuntimeError),
# missing or dangling links (KeyError), objects of the wrong kind or dtype (TypeError,
# ValueError, AttributeError).
_HDF5_ERRORS = (OSError, KeyError, ValueError, TypeError, RuntimeError, AttributeError)


class NotAModel(Exception):
    """Readable, but not a Keras model (a package.json, a dataset ...): skipped, not an error."""


@dataclass
class KerasInput:
    """One Keras model to lint and what its file says about it."""

    path: str
    kind: str  # Keras JSON, Keras HDF5, Keras weights HDF5, Keras archive, TF.js model, ...
    config: dict | None
    layers: list[LayerSpec]
    keras_version: str | None = None
    backend: str | None = None
    training_config: dict | None = None
    optimizer_iterations: int | None = None
    # BN layer path -> role (gamma, beta, moving_mean, moving_variance) -> values
    bn_weights: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    text: str | None = None  # the JSON text, for line numbers
    label: str | None = None

    @property
    def display(self) -> str:
        return f"{self.path} [{self.label}]" if self.label else self.path


def load_keras_bytes(data: bytes, display: str, kind: str) -> list[KerasInput]:
    if kind == "json":
        return [_from_json(data, display)]
    reader = _from_hdf5 if kind == "hdf5" else _from_archive
    # HDF5 (an .h5 file, a .keras file's weights) is read in a child process with a time
    # limit: libhdf5 can hang on damaged data (see bnlint.sources.isolation). What the readers
    # load lazily (h5py, numpy, codecs) is loaded here first, once,
    # not in every child.
    _h5py()
    import numpy  # noqa: F401

    for codec in ("cp437", "ascii", "utf-8"):  # zip member names, h5py string dtypes
        codecs.lookup(codec)

    return [run_isolated(lambda: reader(data, display), _encode_input, _decode_input, display,
                         NotAModel)]


def _encode_input(source: KerasInput) -> dict:
    return dataclasses.asdict(source)


def _decode_input(data: dict) -> KerasInput:
    layers = []
    for layer in data.pop("layers"):
        layer["calls"] = [[tuple(item) for item in call] for call in layer["calls"]]
        layers.append(LayerSpec(**layer))
    return KerasInput(layers=layers, **data)


# -- JSON ------------------------------------------------------------------------------------
def _decode_json(data: bytes, display: str):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(display, f"JSON file is not UTF-8 (byte {exc.start})") from None
    try:
        return text, json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(display, f"invalid JSON: {exc.msg}", line=exc.lineno,
                         column=exc.colno) from None


def _from_json(data: bytes, display: str) -> KerasInput:
    text, document = _decode_json(data, display)
    kind, spec = "Keras JSON", document
    if isinstance(document, dict) and "modelTopology" in document:
        kind, spec = "TF.js model", document["modelTopology"]
        if isinstance(spec, dict) and "model_config" in spec:
            spec = spec["model_config"]
    if not is_model_config(spec):
        kind, spec = "Keras get_config() JSON", bare_model_config(spec)
        if spec is None:
            raise NotAModel("JSON, but not a Keras model config")
    return model_input(display, kind, spec, text=text,
                       keras_version=_version(document, spec),
                       backend=(spec.get("backend") or (document.get("modelTopology") or {})
                                .get("backend") if isinstance(document, dict) else None))


def _version(document, spec) -> str | None:
    for source in (spec, document, (document or {}).get("modelTopology")
                   if isinstance(document, dict) else None):
        if isinstance(source, dict) and isinstance(source.get("keras_version"), str):
            return source["keras_version"]
    return None


def model_input(display, kind, spec, **extra) -> KerasInput:
    """The KerasInput of the model config ``spec`` (an InputError when it cannot be read)."""
    spec = detuple(spec)
    try:
        layers = flatten(spec)
    except ConfigError as exc:
        raise InputError(display, f"unreadable Keras model config: {exc}") from None
    return KerasInput(path=display, kind=kind, config=spec, layers=layers, **extra)


def detuple(value):
    """Keras' SavedModel metadata writes tuples as ``{"class_name": "__tuple__", "items": []}``."""
    if isinstance(value, dict):
        if value.get("class_name") == "__tuple__" and "items" in value:
            return [detuple(item) for item in value["items"]]
        return {key: detuple(item) for key, item in value.items()}
    if isinstance(value, list):
        return [detuple(item) for item in value]
    return value


# -- HDF5 --------------------------------------------------------------------------------------
def _h5py():
    try:
        import h5py
    except ImportError:  # pragma: no cover - h5py is a dependency
        raise InputError("h5py", "reading HDF5 needs h5py (pip install h5py)") from None
    return h5py


def _open_hdf5(data: bytes, display: str):
    h5py = _h5py()
    try:
        return h5py.File(io.BytesIO(data), "r")
    except (OSError, ValueError) as exc:
        raise InputError(display, f"corrupt HDF5 file: {exc}") from None


def _attr_text(attrs, key: str) -> str | None:
    value = attrs.get(key)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None


def _from_hdf5(data: bytes, display: str) -> KerasInput:
    with _open_hdf5(data, display) as handle:
        try:
            return _read_hdf5(handle, display)
        except _HDF5_ERRORS as exc:
            if isinstance(exc, InputError):
                raise
            raise InputError(display, f"corrupt Keras HDF5 file: {one_line(exc)}") from None


def _read_hdf5(handle, display: str) -> KerasInput:
    attrs = handle.attrs
    version, backend = _attr_text(attrs, "keras_version"), _attr_text(attrs, "backend")
    config_text = _attr_text(attrs, "model_config")
    if config_text is None:
        if "layers" in handle and "layer_names" not in attrs:
            return _keras3_weights_only(handle, display)
        return _weights_only(handle, display, version, backend)
    try:
        spec = json.loads(config_text)
    except json.JSONDecodeError as exc:
        raise InputError(display, f"model_config attribute is not JSON: {exc.msg}") from None
    if not is_model_config(spec):
        raise InputError(display, "model_config attribute is not a Keras model config")
    training = _attr_text(attrs, "training_config")
    result = model_input(display, "Keras HDF5", spec, keras_version=version, backend=backend,
                         training_config=json.loads(training) if training else None)
    weights = handle.get("model_weights")
    if weights is not None:
        result.bn_weights = _keras2_bn_weights(weights, result.layers)
    result.optimizer_iterations = _iterations(handle.get("optimizer_weights"))
    return result


def weights_only_root() -> LayerSpec:
    """The model around layers known only from their weights (no config says its name)."""
    return LayerSpec(path="model", name="model", class_name="Model", config={}, container=None,
                     is_model=True)


def _weights_only(handle, display, version, backend) -> KerasInput:
    """``model.save_weights()``: layer groups and weights, no config. A BN layer is a group
    whose datasets include moving statistics; nested models' BN layers keep their path."""
    names = [n.decode() if isinstance(n, bytes) else str(n)
             for n in handle.attrs.get("layer_names", [])]
    if not names:
        raise NotAModel("HDF5, but neither a Keras model nor Keras weights")
    layers = [weights_only_root()]
    bn_weights: dict[str, dict[str, list[float]]] = {}
    for name in names:
        group = handle.get(name)
        owners: dict[str, dict] = {}
        for path, dataset in _datasets(group) if group is not None else ():
            owner, _, leaf = path.rpartition("/")
            role = leaf.split(":")[0]
            if role in BN_ROLES:
                values = _vector(dataset)
                if values is not None:
                    owners.setdefault(owner, {})[role] = values
        bn_owners = {owner: roles for owner, roles in owners.items() if "moving_mean" in roles}
        nested = any(owner and owner != name for owner in bn_owners)
        layers.append(LayerSpec(path=name, name=name,
                                class_name="Model" if nested else (
                                    "BatchNormalization" if bn_owners else "Layer"),
                                config={"name": name}, container="model", is_model=nested))
        for owner, roles in bn_owners.items():
            path = name if owner in ("", name) else f"{name}/{owner}"
            if path != name:
                layers.append(LayerSpec(path=path, name=owner.rsplit("/", 1)[-1],
                                        class_name="BatchNormalization",
                                        config={"name": owner}, container=name))
            bn_weights[path] = roles
    return KerasInput(path=display, kind="Keras weights HDF5", config=None, layers=layers,
                      keras_version=version, backend=backend, bn_weights=bn_weights)


def _keras3_weights_only(handle, display, root: LayerSpec | None = None,
                         kind: str = "Keras weights HDF5") -> KerasInput:
    """A Keras 3 ``.weights.h5``: ``layers/<class-derived name>/vars/<i>``, nested models under
    ``layers/<name>/layers/``; a subclassed model's attributes (``bn/vars/<i>``) at the top
    level too. Without a config, layers are known by those names and shapes only: a
    ``batch_normalization*`` group, or any group of four 1-D variables of one length (no other
    built-in layer has that), holds gamma, beta, moving mean and variance."""
    layers = [root or weights_only_root()]
    bn_weights: dict[str, dict[str, list[float]]] = {}

    def walk(group, prefix: str, container: str) -> None:
        for name, child in group.items():
            if not isinstance(child, _h5py().Group) or name in ("vars", "optimizer"):
                continue
            if name == "layers":
                walk(child, prefix, container)
                continue
            path = f"{prefix}{name}"
            nested = "layers" in child
            variables = child.get("vars")
            is_bn = not nested and (
                name.startswith(("batch_normalization", "sync_batch_normalization"))
                or _four_channel_vectors(variables))
            layers.append(LayerSpec(path=path, name=name, config={"name": name},
                                    class_name="Model" if nested else (
                                        "BatchNormalization" if is_bn else "Layer"),
                                    container=container, is_model=nested))
            if is_bn and variables is not None and len(variables) == len(BN_ROLES):
                values = {role: _vector(variables[str(i)]) for i, role in enumerate(BN_ROLES)}
                bn_weights[path] = {role: v for role, v in values.items() if v is not None}
            if nested:
                walk(child["layers"], f"{path}/", path)

    walk(handle, "", layers[0].path)
    return KerasInput(path=display, kind=kind, config=None, layers=layers,
                      bn_weights=bn_weights,
                      optimizer_iterations=_keras3_iterations(handle.get("optimizer")))


def _four_channel_vectors(variables) -> bool:
    h5py = _h5py()
    if not isinstance(variables, h5py.Group) or set(variables) != {"0", "1", "2", "3"}:
        return False
    shapes = {getattr(variables[key], "shape", None) for key in variables}
    return len(shapes) == 1 and len(next(iter(shapes)) or ()) == 1


def _datasets(group, prefix=""):
    h5py = _h5py()
    for key, item in group.items():
        if isinstance(item, h5py.Dataset):
            yield f"{prefix}{key}", item
        else:
            yield from _datasets(item, f"{prefix}{key}/")


def _roles(group) -> dict[str, list[float]]:
    """gamma/beta/moving_mean/moving_variance datasets anywhere below ``group``."""
    roles = {}
    for name, dataset in _datasets(group):
        leaf = name.rsplit("/", 1)[-1].split(":")[0]
        if leaf in BN_ROLES and leaf not in roles:
            values = _vector(dataset)
            if values is not None:
                roles[leaf] = values
    return roles


def _keras2_bn_weights(weights, layers: list[LayerSpec]) -> dict[str, dict[str, list[float]]]:
    """Keras 2 layout: ``model_weights/<top-level layer>/.../<layer name>/<weight>:0``."""
    found = {}
    for layer in layers:
        if layer.class_name not in BN_CLASSES:
            continue
        group = weights.get(layer.path.split("/")[0])
        if group is None:
            continue
        inner = group.get(layer.name) if layer.name in group else None
        roles = _roles(inner) if inner is not None else {}
        if roles:
            found[layer.path] = roles
    return found


def _iterations(group) -> int | None:
    """The optimizer's step counter (``iter``, ``iterations`` or ``iteration``)."""
    if group is None:
        return None
    for name, dataset in _datasets(group):
        if _ITERATIONS.search(name) and dataset.shape in ((), (1,)):
            return _count(dataset)
    return None


def _count(dataset) -> int | None:
    """A saved step counter: an integer (or integral float) scalar, else None."""
    if dataset.dtype.kind not in "iuf":
        return None
    value = dataset[()]
    value = value.ravel()[0] if getattr(value, "shape", ()) else value
    if dataset.dtype.kind == "f":
        return int(value) if math.isfinite(value) and value >= 0 and value == int(value) else None
    return int(value) if value >= 0 else None


def _vector(dataset) -> list[float] | None:
    """A BN variable's values: read only a numeric dataset of one plausible channel vector,
    never what a damaged or hostile file declares (terabytes, strings, matrices)."""
    h5py = _h5py()
    if not isinstance(dataset, h5py.Dataset) or dataset.dtype.kind not in "fiu":
        return None
    shape = dataset.shape or ()
    if len(shape) > 1 or (shape and not 0 < shape[0] <= MAX_CHANNELS):
        return None
    import numpy  # h5py's own dependency, loaded with it

    return [float(v) for v in numpy.ravel(dataset[()])]


# -- .keras archives ---------------------------------------------------------------------------
def _member(archive: zipfile.ZipFile, name: str, display: str) -> bytes | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    limit = ARCHIVE_MEMBERS[name]
    if info.file_size > limit or (
            info.file_size > (1 << 20) and info.file_size > MAX_EXPANSION * max(1,
                                                                                info.compress_size)):
        raise InputError(display, f"archive member {name} expands to {info.file_size} bytes "
                                  f"from {info.compress_size}: refused (zip bomb?)")
    if info.flag_bits & 0x1:
        raise InputError(display, f"archive member {name} is encrypted: bnlint reads no "
                                  "password-protected .keras files")
    try:
        with archive.open(info) as handle:
            data = handle.read(limit + 1)
    except NotImplementedError:
        raise InputError(display, f"archive member {name} uses a compression method Python "
                                  f"cannot read ({info.compress_type})") from None
    except (zlib.error, lzma.LZMAError, EOFError) as exc:
        raise InputError(display, f"archive member {name} is corrupt: {one_line(exc)}") from None
    if len(data) > limit:
        raise InputError(display, f"archive member {name} is larger than it declares: refused")
    return data


def _from_archive(data: bytes, display: str) -> KerasInput:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(display, f"corrupt zip archive: {exc}") from None
    if "config.json" not in names:
        raise NotAModel("zip archive, but not a Keras .keras file (no config.json)")
    try:
        config_bytes = _member(archive, "config.json", display)
        metadata_bytes = _member(archive, "metadata.json", display)
        weights_bytes = _member(archive, "model.weights.h5", display)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise InputError(display, f"corrupt zip archive: {exc}") from None
    text, spec = _decode_json(config_bytes, f"{display}:config.json")
    if not is_model_config(spec):
        if not _is_subclassed_model(spec):
            raise InputError(display, "config.json is not a Keras model config")
        return _subclassed_archive(display, spec, metadata_bytes, weights_bytes)
    metadata = {}
    if metadata_bytes:
        metadata = _decode_json(metadata_bytes, f"{display}:metadata.json")[1] or {}
    result = model_input(display, "Keras archive", spec,
                         keras_version=metadata.get("keras_version"),
                         training_config=spec.get("compile_config"))
    if weights_bytes:
        with _open_hdf5(weights_bytes, f"{display}:model.weights.h5") as weights:
            result.bn_weights = _keras3_bn_weights(weights, result.layers)
            optimizer = weights.get("optimizer")
            result.optimizer_iterations = _keras3_iterations(optimizer)
    return result


def _is_subclassed_model(spec) -> bool:
    """A model written as a Python class: its config names the class, not its layers."""
    return (isinstance(spec, dict) and isinstance(spec.get("class_name"), str)
            and isinstance(spec.get("module"), str) and isinstance(spec.get("config"), dict)
            and "layers" not in spec["config"])


def _subclassed_archive(display, spec, metadata_bytes, weights_bytes) -> KerasInput:
    """A subclassed model's ``.keras``: its architecture is Python code (never run), so bnlint
    lints what its weights show, the model itself reported as opaque."""
    metadata = _decode_json(metadata_bytes, f"{display}:metadata.json")[1] if metadata_bytes \
        else {}
    root = LayerSpec(path="model", name=str(spec["config"].get("name") or "model"),
                     class_name=spec["class_name"], config={}, container=None, is_model=True,
                     module=spec["module"])
    if not weights_bytes:
        result = KerasInput(path=display, kind="Keras archive", config=None, layers=[root])
    else:
        with _open_hdf5(weights_bytes, f"{display}:model.weights.h5") as weights:
            result = _keras3_weights_only(weights, display, root, kind="Keras archive")
    result.keras_version = (metadata or {}).get("keras_version")
    result.training_config = spec.get("compile_config")
    return result


def snake_case(name: str) -> str:
    """Keras 3 names saved objects after their class: ``BatchNormalization`` ->
    ``batch_normalization``, ``Conv2D`` -> ``conv2d``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _keras3_bn_weights(weights, layers: list[LayerSpec]) -> dict[str, dict[str, list[float]]]:
    """Keras 3 layout: ``layers/<class>[_n]/.../vars/<i>``, named after each layer's class and
    its rank among same-class siblings; a BN's vars are gamma, beta, moving mean and variance
    (those it has)."""
    location: dict[str, str] = {}
    counts: dict[str | None, dict[str, int]] = {}
    for layer in layers[1:]:
        parent = location.get(layer.container, "")
        seen = counts.setdefault(layer.container, {})
        base = snake_case(layer.class_name)
        index = seen.get(base, 0)
        seen[base] = index + 1
        location[layer.path] = f"{parent}layers/{base}" + (f"_{index}" if index else "") + "/"
    found = {}
    for layer in layers:
        if layer.class_name not in BN_CLASSES or layer.path not in location:
            continue
        group = weights.get(location[layer.path] + "vars")
        if group is None:
            continue
        roles = [role for role in BN_ROLES
                 if (role != "gamma" or layer.config.get("scale", True))
                 and (role != "beta" or layer.config.get("center", True))]
        values = {}
        for index, role in enumerate(roles):
            if str(index) in group:
                vector = _vector(group[str(index)])
                if vector is not None:
                    values[role] = vector
        if values:
            found[layer.path] = values
    return found


def _keras3_iterations(group) -> int | None:
    if group is None or "vars" not in group or "0" not in group["vars"]:
        return None
    dataset = group["vars"]["0"]
    if not isinstance(dataset, _h5py().Dataset) or dataset.shape != ():
        return None
    return _count(dataset)


# -- SavedModel keras_metadata.pb -----------------------------------------------------------
def load_keras_metadata(data: bytes, display: str) -> list[KerasInput]:
    """The root object of a Keras 2 SavedModel's metadata holds its model config."""
    from .protos import DecodeError, SavedMetadata

    try:
        metadata = SavedMetadata.FromString(data)
    except DecodeError as exc:
        raise InputError(display, f"corrupt keras_metadata.pb: {exc}") from None
    for node in metadata.nodes:
        if node.node_path != "root":
            continue
        try:
            root: dict[str, Any] = json.loads(node.metadata)
        except json.JSONDecodeError as exc:
            raise InputError(display, f"root metadata is not JSON: {exc.msg}") from None
        spec = root.get("model_config") or {"class_name": root.get("class_name"),
                                           "config": root.get("config")}
        spec = detuple(spec)
        if not is_model_config(spec):
            raise NotAModel("Keras metadata of a layer, not of a model")
        training = root.get("training_config")
        return [model_input(display, "Keras SavedModel metadata", spec,
                            keras_version=root.get("keras_version"),
                            backend=root.get("backend"),
                            training_config=detuple(training) if training else None)]
    raise NotAModel("keras_metadata.pb without a root object")
