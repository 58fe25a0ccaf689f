"""reference_impls/no_impl.yaml: the reasons why a taxonomy node has no implementation stay true."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _load():
    nodes = yaml.safe_load((ROOT / "taxonomy" / "taxonomy.yaml").read_text(encoding="utf-8"))
    reasons = yaml.safe_load((ROOT / "reference_impls" / "no_impl.yaml").read_text(encoding="utf-8"))
    return {n["id"]: n for n in nodes}, reasons


def test_every_reason_is_for_a_real_node_that_has_no_implementation():
    nodes, reasons = _load()
    assert isinstance(reasons, dict) and reasons
    for node_id, reason in reasons.items():
        assert node_id in nodes, f"no_impl.yaml: {node_id!r} is not a taxonomy node"
        assert not nodes[node_id].get("reference_impls"), f"{node_id} has an implementation: drop its reason"
        assert isinstance(reason, str) and len(reason.split()) >= 10


def test_no_node_of_issue_nine_is_left_without_an_implementation_or_a_reason():
    nodes, reasons = _load()
    served = {
        "contrastive-decoding", "decoding-time-adjustment", "domain-adaptation", "rag", "prompt-augmentation",
        "data-synthesis", "training-data-generation", "computation-constrained", "small-model-families",
        "task-specific", "interpretability-required", "knowledge-generation", "sm-plugins", "deficiency-repair",
        "data-augmentation", "quantization",
    }  # fmt: skip
    for node_id in served:
        assert nodes[node_id].get("reference_impls") or node_id in reasons, node_id


def test_every_node_has_an_implementation_or_a_reason():
    nodes, reasons = _load()
    assert [n for n, node in nodes.items() if not node.get("reference_impls") and n not in reasons] == []


def test_a_node_page_shows_why_it_has_no_implementation():
    from smatlas.kb import load
    from smatlas.site.pages import Atlas

    kb, _ = load(ROOT)
    page = Atlas(kb).node_page("instruction-data")
    assert "No reference implementation: " in page
    assert "instruction-following models" in page
