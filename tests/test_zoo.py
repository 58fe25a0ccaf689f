"""The zoo: corpus provenance, tokenizer, cache location, generation, and size ordering."""

import importlib.util
from pathlib import Path

import pytest
import torch

from reference_impls import tasks, zoo
from reference_impls.common import set_threads

set_threads(1)
CORPUS = Path(zoo.__file__).parent / "corpus"


def test_committed_corpus_is_what_the_seeded_generator_writes():
    spec = importlib.util.spec_from_file_location("generate", CORPUS / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    for name, content in generate.build().items():
        assert (CORPUS / name).read_text(encoding="ascii") == content, name


def test_corpus_is_at_most_two_megabytes_and_heldout_is_disjoint_from_train():
    assert sum(p.stat().st_size for p in CORPUS.iterdir() if p.is_file()) <= 2 * 1024 * 1024
    train = {d["text"] for d in zoo.documents("train")}
    held = [d["text"] for d in zoo.documents("heldout")]
    assert held and not any(t in train for t in held)
    assert {d["domain"] for d in zoo.documents("heldout")} == set(tasks.DOMAINS)


def test_byte_tokenizer_round_trips_text():
    text = "Question: Where does Mara live? Answer: Quessa.\n"
    ids = zoo.encode(text)
    assert max(ids) < zoo.VOCAB and zoo.decode(ids) == text and zoo.decode(torch.tensor(ids)) == text


def test_cache_root_honours_smatlas_cache_then_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("SMATLAS_CACHE", str(tmp_path / "a"))
    assert zoo.cache_root() == tmp_path / "a"
    monkeypatch.delenv("SMATLAS_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert zoo.cache_root() == tmp_path / "x" / "smatlas"
    assert zoo.model_dir("zoo-50k").parent == tmp_path / "x" / "smatlas" / "zoo"


def test_cache_key_changes_with_the_training_settings():
    a = zoo.model_dir("zoo-50k")
    b = zoo.model_dir("zoo-50k", zoo.TrainConfig(steps=zoo.TRAIN.steps + 1))
    assert a != b and a.name.startswith("zoo-50k-")


def test_task_answers_are_correct():
    for ex in tasks.arithmetic(50, seed=3):
        a, op, b = ex.prompt.rstrip(" =").split()
        assert int(ex.answer) == (int(a) + int(b) if op == "+" else int(a) - int(b))
    for ex in tasks.sorting(20, seed=3):
        xs = ex.prompt.removeprefix("sort: ").removesuffix(" ->").split()
        assert ex.answer.split() == sorted(xs)
    for ex in tasks.sentiment(50, seed=3):
        pos = sum(w in ex.prompt for w in tasks.POSITIVE)
        neg = sum(w in ex.prompt for w in tasks.NEGATIVE)
        assert (ex.answer == " positive") == (pos > neg)
    w = tasks.world()
    cities = {p.name: p.city for p in w.people}
    for ex in tasks.fact_qa(50, seed=3):
        if ex.prompt.startswith("Question: Where does"):
            name = ex.prompt.removeprefix("Question: Where does ").removesuffix(" live? Answer:")
            assert ex.answer == f" {cities[name]}."


@pytest.fixture(scope="module")
def zoo_models():
    return {n: zoo.load(n)[0] for n in zoo.names()}


def test_larger_zoo_models_have_lower_heldout_perplexity(zoo_models):
    sizes = [zoo.n_params(zoo_models[n]) for n in zoo.names()]
    ppl = [zoo.perplexity(zoo_models[n]) for n in zoo.names()]
    assert sizes == sorted(sizes) and sizes[0] < 80_000 and sizes[-1] > 1_000_000
    assert all(a > b for a, b in zip(ppl, ppl[1:], strict=False)), ppl


def test_cached_generation_equals_full_recompute_greedy(zoo_models):
    model = zoo_models["zoo-180k"]
    prompts = zoo.document_prompts("heldout", 3, 12)
    out = zoo.generate(model, prompts, 10)
    x = prompts
    with torch.no_grad():
        for _ in range(10):
            x = torch.cat([x, model(input_ids=x).logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    assert torch.equal(out, x)


def test_load_reads_a_local_checkpoint_folder(zoo_models, tmp_path):
    zoo_models["zoo-50k"].save_pretrained(tmp_path)
    model, tok = zoo.load(str(tmp_path))
    x = torch.tensor([zoo.encode("One morning, ")])
    with torch.no_grad():
        assert torch.allclose(model(input_ids=x).logits, zoo_models["zoo-50k"](input_ids=x).logits)
    assert tok.encode("ab") == [97, 98]
