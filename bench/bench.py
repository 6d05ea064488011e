"""Benchmark bnlint against the raw protobuf parse of the same file.

    python bench/bench.py                 # build the graphs if missing (needs tensorflow), measure
    python bench/bench.py --runs 5        # more repetitions for the whole-process timings
    python bench/bench.py --python VENV/bin/python   # time bnlint installed in another venv

Use ``--python`` with a venv where bnlint is installed normally (``pip install .``, which
precompiles the modules), as in a pre-commit hook; an editable install under
``PYTHONDONTWRITEBYTECODE=1`` recompiles bnlint's modules on every run.

Graphs (written to bench/.cache/, not committed): tf.keras ResNet-152 and NASNet-Large in a
TF1 training graph (compat.v1 graph mode, Adam, ``control_dependencies(model.updates)``), each
as a binary GraphDef (``.pb``) and MetaGraphDef (``.meta``), plus a small fixture graph.

For each file it prints:

* in-process phases: protobuf parse, DAG build, analyses + rules;
* whole-process wall time (median of ``--runs``) of ``python -m bnlint FILE`` and of a
  baseline process that only imports the protos, reads the file and parses it, and their ratio
  (the budget is 4x, the aim 3x);
* peak resident memory of both processes;

then every fixture linted in one process: ``-j 1`` against ``-j N`` (the CPUs), and with the
cache, empty and full; and, for a fixture's checkpoint, the MetaGraph's parse time beside the
checkpoint's read time (the index, then the BN tensors), also with its data shard made 1 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.path.join(HERE, ".cache")
SMALL = os.path.join(ROOT, "fixtures", "tf", "v2", "layers_missing_deps.meta")
MODELS = ("resnet152", "nasnet_large")

BUILD = r"""
import os, sys
os.environ["TF_USE_LEGACY_KERAS"] = "1"; os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf
tf.compat.v1.disable_eager_execution()
import tf_keras as keras
name, out = sys.argv[1], sys.argv[2]
graph = tf.Graph()
with graph.as_default():
    model = {"resnet152": keras.applications.ResNet152,
             "nasnet_large": keras.applications.NASNetLarge}[name](weights=None)
    labels = tf.compat.v1.placeholder(tf.float32, [None, 1000])
    loss = tf.reduce_mean(keras.losses.categorical_crossentropy(labels, model.output))
    with tf.control_dependencies(model.updates):
        train_op = tf.compat.v1.train.AdamOptimizer(1e-3).minimize(loss, name="train_op")
    with open(os.path.join(out, name + ".pb"), "wb") as handle:
        handle.write(graph.as_graph_def().SerializeToString())
    tf.compat.v1.train.export_meta_graph(os.path.join(out, name + ".meta"), graph=graph)
"""

BASELINE = r"""
import sys
from bnlint.sources import protos
cls = protos.MetaGraphDef if sys.argv[1].endswith(".meta") else protos.GraphDef
with open(sys.argv[1], "rb") as handle:
    cls.FromString(handle.read())
"""

PHASES = r"""
import gc, json, sys, time
gc.disable()  # as bnlint.lint does while it builds and analyses a graph
t0 = time.perf_counter()
from bnlint.analyses import analyze
from bnlint.engine.run import run_rules
from bnlint.graph.build import build_graph
from bnlint.lint import default_policy
from bnlint.sources.tf_files import load_tf_file
rules = default_policy().rules_for(".")
t1 = time.perf_counter()
source = load_tf_file(sys.argv[1])[0]
t2 = time.perf_counter()
graph = build_graph(source)
t3 = time.perf_counter()
findings = run_rules(rules, graph, analyze(graph))
t4 = time.perf_counter()
ops = sum(1 for _, d in graph.nodes(data=True) if d["kind"] == "op")
inlined = sum(1 for _, d in graph.nodes(data=True) if d.get("function"))
print(json.dumps({"import": t1 - t0, "parse": t2 - t1, "build": t3 - t2, "lint": t4 - t3,
                  "graph_def_nodes": len(source.graph_def.node), "inlined": inlined, "ops": ops,
                  "edges": graph.number_of_edges(), "findings": len(findings),
                  "input_edges": sum(len(n.input) for n in source.graph_def.node)}))
"""


def ensure_graphs() -> None:
    os.makedirs(CACHE, exist_ok=True)
    for name in MODELS:
        if all(os.path.exists(os.path.join(CACHE, name + ext)) for ext in (".pb", ".meta")):
            continue
        print(f"building {name} with TensorFlow (a minute or two) ...", flush=True)
        subprocess.run([sys.executable, "-c", BUILD, name, CACHE], check=True,
                       stderr=subprocess.DEVNULL)


def timed(command: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MiB, exit status) of one process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               cwd=HERE)  # not the checkout: measure the installed bnlint
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def measure(path: str, runs: int, python: str = sys.executable) -> dict:
    phases = json.loads(subprocess.run([python, "-c", PHASES, path], check=True,
                                       capture_output=True, text=True, cwd=HERE).stdout)
    bnlint, baseline = [], []
    for _ in range(runs):  # alternately: a slow spell of the machine slows both alike
        bnlint.append(timed([python, "-m", "bnlint", path, "--format", "json", "--no-cache"]))
        baseline.append(timed([python, "-c", BASELINE, path]))
    assert all(status in (0, 1) for _, _, status in bnlint), "bnlint failed on " + path
    bn_wall = statistics.median(w for w, _, _ in bnlint)
    base_wall = statistics.median(w for w, _, _ in baseline)
    return {
        **phases,
        "bnlint_wall": bn_wall, "baseline_wall": base_wall, "ratio": bn_wall / base_wall,
        "bnlint_rss": max(m for _, m, _ in bnlint), "baseline_rss": max(m for _, m, _ in baseline),
    }


FIXTURES = os.path.join(ROOT, "fixtures")


def measure_many_files(runs: int, python: str, jobs: int) -> dict:
    """Whole-process wall time (median of ``runs``) of linting every fixture: uncached with
    ``-j 1`` and with ``-j jobs``, then with the cache, first empty (the run that fills it)
    and then full. Also checks that ``-j`` does not change the output."""
    import tempfile

    def lint(*options) -> tuple[float, bytes]:
        start = time.perf_counter()
        done = subprocess.run([python, "-m", "bnlint", FIXTURES, "--format", "json", *options],
                              capture_output=True, cwd=HERE)
        assert done.returncode in (1, 2), done.stderr[-500:]
        return time.perf_counter() - start, done.stdout

    serial = [lint("--no-cache", "-j", "1") for _ in range(runs)]
    parallel = [lint("--no-cache", "-j", str(jobs)) for _ in range(runs)]
    assert all(out == serial[0][1] for _, out in serial + parallel), "-j changed the output"
    fill, full = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cache:
            fill.append(lint("--cache-dir", cache)[0])
            elapsed, out = lint("--cache-dir", cache)
            assert out == serial[0][1], "the cache changed the output"
            full.append(elapsed)
    return {"serial": statistics.median(t for t, _ in serial),
            "parallel": statistics.median(t for t, _ in parallel),
            "fill": statistics.median(fill), "cached": statistics.median(full),
            "findings": len(json.loads(serial[0][1])["findings"]), "jobs": jobs}


CHECKPOINT = os.path.join(ROOT, "fixtures", "tf", "v2", "layers_missing_deps_model_dir",
                          "model.ckpt-600")


def measure_checkpoint(prefix: str, repeats: int = 20) -> dict:
    """In-process: parsing the checkpoint's MetaGraph against reading its checkpoint (the
    index, then the BN tensors the rules need), and the same read with the data shard made
    1 GiB (a sparse copy): only the BN tensors' bytes are read, so the time stays put."""
    import shutil
    import tempfile

    from bnlint.analyses import analyze
    from bnlint.graph.build import build_graph
    from bnlint.sources import protos
    from bnlint.sources.checkpoint import read_checkpoint
    from bnlint.sources.files import load_file

    data = open(prefix + ".meta", "rb").read()
    (source,) = load_file(prefix + ".meta")
    graph = build_graph(source)
    names = [graph._node[v]["name"] for layer in analyze(graph).layers for v in layer.variables]

    def best(action):
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            action()
            times.append(time.perf_counter() - started)
        return min(times)

    def read(at):
        checkpoint = read_checkpoint(at)
        for name in names:
            checkpoint.read(name)

    parse = best(lambda: protos.MetaGraphDef.FromString(data))
    read_time = best(lambda: read(prefix))
    with tempfile.TemporaryDirectory() as scratch:
        copy = os.path.join(scratch, os.path.basename(prefix))
        for suffix in (".index", ".data-00000-of-00001"):
            shutil.copy(prefix + suffix, copy + suffix)
        os.truncate(copy + ".data-00000-of-00001", 1 << 30)
        sparse_time = best(lambda: read(copy))
    return {"parse": parse, "read": read_time, "sparse": sparse_time, "tensors": len(names)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="whole-process repetitions")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter with bnlint installed (default: this one)")
    args = parser.parse_args(argv)
    ensure_graphs()
    files = [SMALL] + [os.path.join(CACHE, name + ext)
                       for name in MODELS for ext in (".pb", ".meta")]
    header = (f"{'graph':<22}{'nodes':>8}{'inlined':>9}{'inputs':>10}{'parse':>8}{'build':>8}"
              f"{'lint':>7}{'bnlint':>9}{'baseline':>10}{'ratio':>7}{'RSS MiB':>14}")
    print(header)
    for path in files:
        m = measure(path, args.runs, args.python)
        print(f"{os.path.basename(path):<22}{m['graph_def_nodes']:>8}{m['inlined']:>9}"
              f"{m['input_edges']:>10}{m['parse']:>8.2f}{m['build']:>8.2f}{m['lint']:>7.2f}"
              f"{m['bnlint_wall']:>8.2f}s{m['baseline_wall']:>9.2f}s{m['ratio']:>6.2f}x"
              f"{m['bnlint_rss']:>7.0f}/{m['baseline_rss']:<6.0f}", flush=True)
    print("\nparse/build/lint: seconds in-process; bnlint/baseline: whole-process wall time "
          f"(median of {args.runs}); ratio = bnlint / baseline; RSS: bnlint/baseline peak.")
    print(f"interpreter: {args.python}")
    sys.path.insert(0, ROOT)
    from bnlint.parallel import default_jobs  # what bnlint's -j defaults to

    jobs = default_jobs()
    files = sum(len(names) for _, _, names in os.walk(FIXTURES))
    m = measure_many_files(args.runs, args.python, jobs)
    print(f"\nfixtures/ ({files} files, {m['findings']} findings), whole process, median of "
          f"{args.runs}:")
    print(f"  -j 1, no cache      {m['serial']:6.2f}s")
    print(f"  -j {jobs}, no cache      {m['parallel']:6.2f}s  {m['parallel'] / m['serial']:.2f}x "
          "of -j 1 (output identical)")
    print(f"  cache empty (fills) {m['fill']:6.2f}s")
    print(f"  cache full          {m['cached']:6.2f}s  {m['cached'] / m['fill']:.2f}x of the run "
          "that filled it")
    m = measure_checkpoint(CHECKPOINT)
    print(f"\ncheckpoint {os.path.relpath(CHECKPOINT, ROOT)}: MetaGraph parse "
          f"{m['parse'] * 1000:.2f} ms; checkpoint read (index + {m['tensors']} BN tensors) "
          f"{m['read'] * 1000:.2f} ms; with a 1 GiB data shard {m['sparse'] * 1000:.2f} ms "
          "(in-process, best of 20)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
