"""The (prompt, answer) fine-tuning helper: packing, scoring, exact match against real greedy decoding."""

import torch
import torch.nn.functional as F

from reference_impls import finetune, zoo
from reference_impls.common import set_threads

set_threads(1)


def test_pack_puts_each_answer_token_as_the_target_of_the_position_before_it():
    ids, targets = finetune.pack([("ab", "cd"), ("x", "y")])
    assert ids.shape == targets.shape == (2, 5)
    assert zoo.decode(ids[0]) == "\nabcd"
    assert zoo.decode(ids[1, :3]) == "\nxy" and (ids[1, 3:] == zoo.EOS).all()
    assert targets[0].tolist() == [-100, -100, ord("c"), ord("d"), -100]
    assert targets[1].tolist() == [-100, ord("y"), -100, -100, -100]


def test_choice_logprobs_is_the_sum_of_the_answer_token_logprobs():
    model = zoo.fresh("zoo-50k", seed=0)
    lp = finetune.choice_logprobs(model, ["hello", "a"], [" yes", " no"])
    ids = torch.tensor([zoo.encode("\nhello no")])
    manual = F.log_softmax(model(input_ids=ids).logits[0].float(), dim=-1)
    n = len(" no")
    expected = sum(manual[-n - 1 + i, ids[0, -n + i]] for i in range(n))
    assert torch.allclose(lp[0, 1], expected, atol=1e-5)
    probs = finetune.classify(model, ["hello", "a"], [" yes", " no"])[1]
    assert torch.allclose(probs.sum(dim=1), torch.ones(2))


def test_exact_match_agrees_with_greedy_generation():
    model = zoo.fresh("zoo-50k", seed=1)
    prompts = ["abc", "hello wor", "x"]
    pairs = []
    for i, p in enumerate(prompts):
        ids = torch.tensor([zoo.encode("\n" + p)])
        greedy = zoo.decode(zoo.generate(model, ids, 4)[0, ids.shape[1] :])
        pairs.append((p, greedy if i != 1 else greedy[:3] + chr(ord(greedy[3]) ^ 1)))
    assert finetune.exact_match(model, pairs).tolist() == [True, False, True]


def test_finetune_lowers_the_answer_loss_and_leaves_prompts_unscored():
    model = zoo.fresh("zoo-50k", seed=2)
    pairs = [(f"{a} + {b} =", f" {a + b}") for a in range(5) for b in range(5)]
    ids, targets = finetune.pack(pairs)
    before = finetune.answer_loss(model, ids, targets).item()
    finetune.finetune(model, pairs, 40, lr=1e-2, batch=8)
    assert finetune.answer_loss(model, ids, targets).item() < before - 1.0


def test_pack_takes_another_tokenizer():
    ids, targets = finetune.pack([("ab", "c"), ("a", "bc")], bos="", encode=lambda s: [ord(ch) - 90 for ch in s], pad=0)
    assert ids.tolist() == [[7, 8, 9], [7, 8, 9]]
    assert targets.tolist() == [[-100, 9, -100], [8, 9, -100]]
