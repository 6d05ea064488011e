"""One shape for every Keras model config: Keras 1, Keras 2 (standalone, tf.keras, tf-keras)
and Keras 3, Sequential or Functional, with models nested in models to any depth.

A config is read as data, never deserialized: nothing here imports Keras, builds a layer or
runs a Lambda's code.

>>> spec = {"class_name": "Sequential", "config": {"name": "s", "layers": [
...     {"class_name": "Dense", "config": {"name": "d", "units": 2}},
...     {"class_name": "BatchNormalization", "config": {"name": "bn", "axis": -1}}]}}
>>> [(layer.path, layer.calls) for layer in flatten(spec)]
[('s', []), ('d', []), ('bn', [[('d', 0, 0)]])]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MODEL_CLASSES = frozenset({"Sequential", "Model", "Functional"})
# Bounds on what a config may hold (the largest real models have a few thousand layers and
# nest models a few levels deep).
MAX_LAYERS = 100_000
MAX_NESTING = 64


class ConfigError(ValueError):
    """A model config that cannot be read; the message says where."""


@dataclass
class LayerSpec:
    """One layer of a (possibly nested) model, named by its path below the outermost model
    (``conv``, ``backbone/bn``); the outermost model is named by its own name."""

    path: str
    name: str
    class_name: str
    config: dict
    container: str | None  # path of the model it belongs to
    calls: list[list[tuple[str, int, int]]] = field(default_factory=list)  # per call: inputs
    call_kwargs: list[dict] = field(default_factory=list)  # per call: keyword arguments
    is_model: bool = False
    inputs: list[str] = field(default_factory=list)  # a model's input layers (paths)
    outputs: list[str] = field(default_factory=list)  # a model's output layers (paths)
    module: str | None = None


def is_model_config(data: Any) -> bool:
    """True for a dict that is a Keras model config: ``{"class_name": ..., "config": ...}``
    whose class is a model, or whose config lists layers."""
    if not isinstance(data, dict) or not isinstance(data.get("class_name"), str):
        return False
    config = data.get("config")
    if data["class_name"] in MODEL_CLASSES:
        return isinstance(config, (dict, list))
    return isinstance(config, dict) and isinstance(config.get("layers"), list)


def bare_model_config(data: Any) -> dict | None:
    """A bare ``model.get_config()`` dump as a model config, or None.

    ``get_config()`` returns the inner ``config`` without the ``class_name`` wrapper that
    ``to_json()`` adds: a Functional model's ``name``, ``layers``, ``input_layers`` and
    ``output_layers``, or a Sequential's ``name`` and ``layers``. Every entry of ``layers``
    must be a layer config (other JSON with a ``layers`` list is not a model).

    >>> bare_model_config({"name": "s", "layers": [{"class_name": "Dense", "config": {}}]})
    {'class_name': 'Sequential', 'config': {'name': 's', 'layers': [{'class_name': 'Dense', \
'config': {}}]}}
    >>> bare_model_config({"layers": ["a", "b"]}) is None
    True
    """
    if not isinstance(data, dict) or "class_name" in data:
        return None
    layers = data.get("layers")
    if not isinstance(layers, list) or not layers or not all(
            isinstance(entry, dict) and isinstance(entry.get("class_name"), str)
            and isinstance(entry.get("config"), dict) for entry in layers):
        return None
    functional = "input_layers" in data and "output_layers" in data
    return {"class_name": "Functional" if functional else "Sequential", "config": data}


def flatten(spec: dict) -> list[LayerSpec]:
    """Every layer of the model ``spec``, outer model first, nested models' layers after the
    model that holds them, each with the layers feeding each of its calls."""
    result: list[LayerSpec] = []
    _model(spec, None, result, "model", used=set())
    return result


def _unique(path: str, used: set[str]) -> str:
    """A layer path not used yet: a nested model may be named like the model around it (whose
    name paths leave out), and hostile configs repeat names; the second gets ``#2``."""
    unique, count = path, 1
    while unique in used:
        count += 1
        unique = f"{path}#{count}"
    used.add(unique)
    if len(used) > MAX_LAYERS:
        raise ConfigError(f"more than {MAX_LAYERS:,} layers: not a model bnlint reads")
    return unique


def _name(entry: dict, where: str) -> str:
    config = entry.get("config")
    name = entry.get("name")
    if not isinstance(name, str) and isinstance(config, dict):
        name = config.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: a layer without a name")
    return name


def _model(spec: dict, container: str | None, result: list[LayerSpec], where: str,
           prefix: str = "", used: set[str] | None = None, depth: int = 0) -> LayerSpec:
    if depth > MAX_NESTING:
        raise ConfigError(f"{where}: models nested more than {MAX_NESTING} deep")
    used = set() if used is None else used
    name = _name(spec, where) if not isinstance(spec.get("config"), list) else (
        spec.get("name") or "sequential")
    if not isinstance(name, str):
        raise ConfigError(f"{where}: a model without a name")
    path = _unique(f"{prefix}{name}", used)
    inner = "" if container is None else f"{path}/"  # the outermost model's name is left out
    model = LayerSpec(path=path, name=name, class_name=spec["class_name"],
                      config=spec.get("config") if isinstance(spec.get("config"), dict) else {},
                      container=container, is_model=True, module=spec.get("module"))
    result.append(model)
    config = spec.get("config")
    layers = config if isinstance(config, list) else (config or {}).get("layers")
    if not isinstance(layers, list):
        raise ConfigError(f"{where}: model '{name}' has no list of layers")
    children: list[LayerSpec] = []
    for index, entry in enumerate(layers):
        if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
            raise ConfigError(f"{where}.layers[{index}]: not a layer config")
        if is_model_config(entry):
            child = _model(entry, path, result, f"{where}.layers[{index}]", inner, used,
                           depth + 1)
        else:
            layer_name = _name(entry, f"{where}.layers[{index}]")
            child = LayerSpec(path=_unique(f"{inner}{layer_name}", used), name=layer_name,
                              class_name=entry["class_name"],
                              config=entry.get("config") if isinstance(entry.get("config"),
                                                                       dict) else {},
                              container=path, module=entry.get("module"))
            result.append(child)
        child.calls, child.call_kwargs = _inbound(entry.get("inbound_nodes"), inner,
                                                  f"{where}.layers[{index}]")
        children.append(child)
    if spec["class_name"] == "Sequential" or not _has_graph(layers):
        _chain(children)
        model.inputs = [children[0].path] if children else []
        model.outputs = [children[-1].path] if children else []
    else:
        model.inputs = _endpoints((config or {}).get("input_layers"), inner)
        model.outputs = _endpoints((config or {}).get("output_layers"), inner)
    return model


def _has_graph(layers: list) -> bool:
    return any(isinstance(entry, dict) and "inbound_nodes" in entry for entry in layers)


def _chain(children: list[LayerSpec]) -> None:
    """Sequential: each layer's one call takes the previous layer's output."""
    for previous, layer in zip(children, children[1:], strict=False):
        if not layer.calls:
            layer.calls = [[(previous.path, 0, 0)]]
            layer.call_kwargs = [{}]


def _endpoints(value, prefix: str) -> list[str]:
    """``input_layers``/``output_layers``: ``[name, node, tensor]`` or a list of them."""
    if not isinstance(value, list) or not value:
        return []
    entries = [value] if isinstance(value[0], str) else value
    return [f"{prefix}{entry[0]}" for entry in entries
            if isinstance(entry, list) and entry and isinstance(entry[0], str)]


def _inbound(nodes, prefix: str, where: str):
    """Calls of a layer in every historical shape:

    * Keras 1/2: ``[[[name, node_index, tensor_index(, kwargs)], ...], ...]``
    * Keras 3: ``[{"args": [...], "kwargs": {...}}, ...]`` with ``__keras_tensor__`` entries
      whose ``keras_history`` is ``[name, node_index, tensor_index]``.
    """
    if nodes is None:
        return [], []
    if not isinstance(nodes, list):
        raise ConfigError(f"{where}.inbound_nodes: not a list")
    calls, kwargs = [], []
    for node in nodes:
        if isinstance(node, dict):
            sources = list(_keras_tensors(node.get("args", []), prefix))
            sources += _keras_tensors(node.get("kwargs", {}), prefix)
            call_kwargs = {key: value for key, value in (node.get("kwargs") or {}).items()
                           if not _is_tensor(value)}
        elif isinstance(node, list):
            sources, call_kwargs = [], {}
            for entry in node:
                if (isinstance(entry, list) and len(entry) >= 3 and isinstance(entry[0], str)):
                    sources.append((f"{prefix}{entry[0]}", _int(entry[1]), _int(entry[2])))
                    if len(entry) > 3 and isinstance(entry[3], dict):
                        call_kwargs.update(entry[3])
        else:
            raise ConfigError(f"{where}.inbound_nodes: unknown node shape")
        calls.append(sources)
        kwargs.append(call_kwargs)
    return calls, kwargs


def _is_tensor(value) -> bool:
    return isinstance(value, dict) and value.get("class_name") == "__keras_tensor__"


def _keras_tensors(value, prefix: str):
    if _is_tensor(value):
        history = (value.get("config") or {}).get("keras_history")
        if isinstance(history, list) and len(history) >= 3 and isinstance(history[0], str):
            yield f"{prefix}{history[0]}", _int(history[1]), _int(history[2])
    elif isinstance(value, dict):
        for item in value.values():
            yield from _keras_tensors(item, prefix)
    elif isinstance(value, list):
        for item in value:
            yield from _keras_tensors(item, prefix)


def _int(value) -> int:
    return value if isinstance(value, int) else 0
